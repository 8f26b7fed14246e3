package admin

import (
	"encoding/json"
	"net/http"

	"github.com/sidecar-voip/sidecar/routing"
)

// Reloader is what POST /reload runs; *routing.Reloader implements it.
type Reloader interface {
	// Reload reloads the settings and the templates and swaps them in, or refuses (the
	// running set stays) with every error in the Result.
	Reload(reason string) (routing.Result, error)
}

// actions are the resources that change something, by path; each accepts POST only. A
// resource whose source is not set is not routed (404).
func (s *Server) actions() map[string]func(http.ResponseWriter, *http.Request) {
	a := map[string]func(http.ResponseWriter, *http.Request){}
	if s.opts.Reload != nil {
		a["/reload"] = s.reload
	}
	return a
}

// reload answers POST /reload with the routing.Result as JSON: 200 when the new settings
// and templates were swapped in (restart_needed lists the settings that apply only after a
// restart), 422 when the reload was refused, with every "file:line: message" in errors. The
// request body is not read.
func (s *Server) reload(w http.ResponseWriter, _ *http.Request) {
	res, err := s.opts.Reload.Reload("http")
	code := http.StatusOK
	if err != nil || !res.OK {
		code = http.StatusUnprocessableEntity
		if len(res.Errors) == 0 && err != nil {
			res.Errors = []string{err.Error()}
		}
	}
	body, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		panic(err) // a Result holds only strings, numbers and times
	}
	write(w, code, "application/json", append(body, '\n'))
}

var _ Reloader = (*routing.Reloader)(nil)
