package admin

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sidecar-voip/sidecar/internal/dialect"
	"github.com/sidecar-voip/sidecar/profile"
	"github.com/sidecar-voip/sidecar/push"
	"github.com/sidecar-voip/sidecar/request"
	"github.com/sidecar-voip/sidecar/routing"
)

// BundleSource gives the running routing bundle; *routing.Live and *push.Store implement it.
type BundleSource interface {
	Current() *routing.Bundle
}

// isAPI reports whether path is the template API or /render.
func isAPI(path string) bool {
	return path == "/templates" || strings.HasPrefix(path, "/templates/") || path == "/render"
}

// api serves the template API and /render, and everything else with next.
func (s *Server) api(next http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /templates", s.listTemplates)
	mux.HandleFunc("GET /templates/{name}", s.getTemplate)
	mux.HandleFunc("PUT /templates/{name}", s.putTemplate)
	mux.HandleFunc("POST /templates/{name}", s.putTemplate) // Kamailio 5.6 http_client: GET and POST only
	mux.HandleFunc("PATCH /templates/{name}", s.patchTemplate)
	mux.HandleFunc("DELETE /templates/{name}", s.deleteTemplate)
	mux.HandleFunc("POST /render", s.render)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !isAPI(r.URL.Path) {
			next.ServeHTTP(w, r)
			return
		}
		defer s.recoverPanic(w, r)
		if s.opts.Routing == nil {
			writeError(w, http.StatusNotFound, "the template API is not enabled in this process")
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// apiTemplate is one template in GET /templates.
type apiTemplate struct {
	Name     string   `json:"name"`
	Origin   string   `json:"origin"` // "file:line" or "pushed"
	Abstract bool     `json:"abstract,omitempty"`
	Parents  []string `json:"parents,omitempty"`
	Expires  string   `json:"expires,omitempty"` // RFC 3339, pushed templates with a TTL
	Updated  string   `json:"updated,omitempty"` // RFC 3339, pushed templates
}

func (s *Server) info(sec *dialect.Section) apiTemplate {
	ti := apiTemplate{Name: sec.Name, Origin: sec.Pos.String(), Abstract: sec.Abstract, Parents: sec.Parents}
	if _, ok := routing.PushedName(sec.Pos.File); ok {
		ti.Origin = "pushed"
		if s.opts.Push != nil {
			if e, ok := s.opts.Push.Get(sec.Name); ok {
				ti.Expires, ti.Updated = rfc3339(e.Expires), rfc3339(e.Updated)
			}
		}
	}
	return ti
}

func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func (s *Server) listTemplates(w http.ResponseWriter, r *http.Request) {
	b := s.opts.Routing.Current()
	out := struct {
		Source    string        `json:"source"`
		Templates []apiTemplate `json:"templates"`
	}{Source: b.Source(), Templates: []apiTemplate{}}
	for _, sec := range b.Sections() {
		out.Templates = append(out.Templates, s.info(sec))
	}
	writeJSON(w, http.StatusOK, out)
}

// templateLine is one resolved line of a template.
type templateLine struct {
	Key   string `json:"key"`
	Value string `json:"value"`
	At    string `json:"at"`             // file:line
	From  string `json:"from,omitempty"` // the parent it is inherited from
}

func (s *Server) getTemplate(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	b := s.opts.Routing.Current()
	sec := b.Section(name)
	if sec == nil {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no template [%s]", name))
		return
	}
	show := r.URL.Query().Get("show-secrets") == "1"
	out := struct {
		apiTemplate
		// Text is the template's own lines in the dialect (secrets masked).
		Text string `json:"text"`
		// Lines are the resolved lines, inherited ones included.
		Lines []templateLine `json:"lines"`
		// Profile is the template built over a sample request (concrete templates).
		Profile      *profile.Profile `json:"profile,omitempty"`
		ProfileError string           `json:"profile_error,omitempty"`
	}{apiTemplate: s.info(sec), Lines: []templateLine{}}
	var text strings.Builder
	text.WriteString("[" + sec.Name + "]")
	if opts := headerOptions(sec); opts != "" {
		text.WriteString("(" + opts + ")")
	}
	text.WriteString("\n")
	for _, l := range sec.Lines {
		v := l.Value
		if profile.SecretKey(l.Key) && !show && v != "" {
			v = "****"
		}
		out.Lines = append(out.Lines, templateLine{Key: l.Key, Value: v, At: l.Pos.String(), From: l.From})
		if l.From == "" {
			text.WriteString(l.Key + " = " + strings.ReplaceAll(v, ";", `\;`) + "\n")
		}
	}
	out.Text = text.String()
	if !sec.Abstract {
		p, err := b.Templates().Build(profile.Match{Name: name}, profile.RoleCaller, request.Sample())
		if err != nil {
			out.ProfileError = err.Error()
		}
		out.Profile = p
	}
	writeJSON(w, http.StatusOK, out)
}

func headerOptions(sec *dialect.Section) string {
	opts := sec.Parents
	if sec.Abstract {
		opts = append([]string{"!"}, opts...)
	}
	return strings.Join(opts, ",")
}

// readBody reads at most push.MaxBody bytes of r's body.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return nil, fmt.Errorf("%w: body larger than %d bytes", push.ErrBadRequest, limit)
	}
	return b, err
}

func isJSON(r *http.Request) bool {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return mt == "application/json" || mt == "application/merge-patch+json" || strings.HasSuffix(mt, "+json")
}

// ttlOf reads the TTL of a push: ?ttl= or the X-TTL header, a Go duration ("90s", "1h")
// or a number of seconds. ok is false when none is given.
func ttlOf(r *http.Request) (ttl time.Duration, ok bool, err error) {
	v := r.URL.Query().Get("ttl")
	if v == "" {
		v = r.Header.Get("X-TTL")
	}
	if v == "" {
		return 0, false, nil
	}
	if n, err := strconv.ParseUint(v, 10, 32); err == nil {
		return time.Duration(n) * time.Second, true, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, false, fmt.Errorf("%w: ttl %q: want a duration such as 60s or a number of seconds", push.ErrBadRequest, v)
	}
	return d, true, nil
}

func (s *Server) store(w http.ResponseWriter) *push.Store {
	if s.opts.Push == nil {
		writeError(w, http.StatusNotFound, "pushing templates is not enabled in this process")
	}
	return s.opts.Push
}

func (s *Server) putTemplate(w http.ResponseWriter, r *http.Request) {
	st := s.store(w)
	if st == nil {
		return
	}
	name := r.PathValue("name")
	ttl, _, err := ttlOf(r)
	if err != nil {
		s.pushError(w, r, err)
		return
	}
	body, err := readBody(w, r, push.MaxBody)
	if err != nil {
		s.pushError(w, r, err)
		return
	}
	var text string
	if isJSON(r) {
		text, err = push.FromJSON(name, body)
	} else {
		text, err = push.FromText(name, body)
	}
	if err != nil {
		s.pushError(w, r, err)
		return
	}
	_, existed := st.Get(name)
	res, err := st.Put(name, text, ttl)
	if err != nil {
		s.pushError(w, r, err)
		return
	}
	s.opts.Log.Info("template pushed", "template", name, "ttl", ttl.String())
	code := http.StatusCreated
	if existed {
		code = http.StatusOK
	}
	writeJSON(w, code, res)
}

func (s *Server) patchTemplate(w http.ResponseWriter, r *http.Request) {
	st := s.store(w)
	if st == nil {
		return
	}
	if !isJSON(r) {
		writeError(w, http.StatusUnsupportedMediaType, "PATCH takes JSON: {\"fields\": {\"key\": \"value\" or [values] or null}}; PUT replaces a template written in the dialect")
		return
	}
	name := r.PathValue("name")
	ttl, hasTTL, err := ttlOf(r)
	if err != nil {
		s.pushError(w, r, err)
		return
	}
	body, err := readBody(w, r, push.MaxBody)
	if err != nil {
		s.pushError(w, r, err)
		return
	}
	var p push.Patch
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		s.pushError(w, r, fmt.Errorf("%w: read JSON patch: %v", push.ErrBadRequest, err))
		return
	}
	var ttlp *time.Duration
	if hasTTL {
		ttlp = &ttl
	}
	res, err := st.Patch(name, p, ttlp)
	if err != nil {
		s.pushError(w, r, err)
		return
	}
	s.opts.Log.Info("template patched", "template", name)
	writeJSON(w, http.StatusOK, res)
}

func (s *Server) deleteTemplate(w http.ResponseWriter, r *http.Request) {
	st := s.store(w)
	if st == nil {
		return
	}
	name := r.PathValue("name")
	if _, err := st.Delete(name); err != nil {
		s.pushError(w, r, err)
		return
	}
	s.opts.Log.Info("template deleted", "template", name)
	w.WriteHeader(http.StatusNoContent)
}

// pushError answers a Store error: 400 for bad input and a set that does not compile (409
// when the change was a DELETE: the body was fine, other templates need it), 404, 409.
func (s *Server) pushError(w http.ResponseWriter, r *http.Request, err error) {
	var inv *push.InvalidError
	switch {
	case errors.As(err, &inv) && r.Method == http.MethodDelete:
		writeError(w, http.StatusConflict, err.Error())
	case errors.As(err, &inv), errors.Is(err, push.ErrBadRequest):
		writeError(w, http.StatusBadRequest, err.Error())
	case errors.Is(err, push.ErrNotFound):
		writeError(w, http.StatusNotFound, err.Error())
	case errors.Is(err, push.ErrConflict), errors.Is(err, push.ErrFull):
		writeError(w, http.StatusConflict, err.Error())
	default:
		s.opts.Log.Error("template change failed", "path", r.URL.Path, "err", err)
		writeError(w, http.StatusInternalServerError, "internal error (see the sidecar's log)")
	}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	body, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		writeError(w, http.StatusInternalServerError, "encode response: "+err.Error())
		return
	}
	write(w, code, "application/json", append(body, '\n'))
}

func writeError(w http.ResponseWriter, code int, msg string) {
	body, _ := json.Marshal(struct {
		Error string `json:"error"`
	}{msg})
	write(w, code, "application/json", append(body, '\n'))
}
