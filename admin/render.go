package admin

import (
	"errors"
	"fmt"
	"net/http"
	"net/netip"

	"github.com/sidecar-voip/sidecar/routing"
)

// rendered is the answer of POST /render: what "sidecar render" prints, and why the request
// would be refused when it would be.
type rendered struct {
	*routing.Rendered
	Error string `json:"error,omitempty"`
}

// render is POST /render: a raw SIP request in the body (as "sidecar render" reads it),
// ?source=IP:PORT (default 127.0.0.1:5060), ?transport=udp|tcp|tls (default udp),
// ?show-secrets=1. It answers 200 with the JSON of "sidecar render" over the running bundle
// (with "error" when the request would be refused), 400 when the input is not a request.
func (s *Server) render(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	in := routing.RenderInput{Transport: "udp", ShowSecrets: q.Get("show-secrets") == "1"}
	if t := q.Get("transport"); t != "" {
		in.Transport = t
	}
	src := "127.0.0.1:5060"
	if v := q.Get("source"); v != "" {
		src = v
	}
	ap, err := netip.ParseAddrPort(src)
	if err != nil {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("source %q: want ip:port", src))
		return
	}
	in.Source = ap
	if in.Raw, err = readBody(w, r, routing.MaxRenderInput); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	res, err := routing.Render(r.Context(), s.opts.Routing.Current(), in)
	switch {
	case errors.Is(err, routing.ErrBadRequest):
		writeError(w, http.StatusBadRequest, err.Error())
	case err != nil:
		writeJSON(w, http.StatusOK, rendered{Rendered: res, Error: err.Error()})
	default:
		writeJSON(w, http.StatusOK, rendered{Rendered: res})
	}
}
