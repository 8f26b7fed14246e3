package admin

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sidecar-voip/sidecar/rtp"
	"github.com/sidecar-voip/sidecar/sipsvc"
)

// allow is the Allow header of every resource but "/": they are read-only.
const allow = "GET, HEAD"

// allowOf is the Allow header of path: "/" also takes the render form's POST.
func allowOf(path string) string {
	if path == "/" {
		return allow + ", POST"
	}
	return allow
}

// snapshot is everything one response shows, read once per request.
type snapshot struct {
	now         time.Time
	start       time.Time
	version     string
	draining    bool
	sip         sipsvc.Stats
	mediaActive int
	media       rtp.Stats
}

func (s *Server) snapshot() snapshot {
	sn := snapshot{now: s.opts.Now(), start: s.opts.Start, version: s.opts.Version}
	if s.opts.SIP != nil {
		sn.sip = s.opts.SIP.Stats()
		sn.draining = s.opts.SIP.Draining()
	}
	if s.opts.Media != nil {
		sn.mediaActive = s.opts.Media.Active()
		sn.media = s.opts.Media.Totals()
	}
	return sn
}

// routes maps each path to its handler; anything else is 404, any method but GET and HEAD
// is 405 (POST only for the actions, such as /reload). Every handler runs under recoverPanic.
func (s *Server) routes() http.Handler {
	paths := map[string]func(http.ResponseWriter, *http.Request){
		"/healthz": s.healthz,
		"/metrics": s.metrics,
		"/status":  s.status,
		"/":        s.page, // page.go; POST renders the form
	}
	actions := s.actions() // POST only: reload.go
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer s.recoverPanic(w, r)
		if h, ok := actions[r.URL.Path]; ok {
			if r.Method != http.MethodPost {
				w.Header().Set("Allow", http.MethodPost)
				writeText(w, http.StatusMethodNotAllowed, "method not allowed\n")
				return
			}
			h(w, r)
			return
		}
		h, ok := paths[r.URL.Path]
		if !ok && strings.HasPrefix(r.URL.Path, "/static/") {
			h, ok = s.static, true
		}
		switch {
		case !ok:
			writeText(w, http.StatusNotFound, "not found\n")
		case r.URL.Path == "/" && r.Method == http.MethodPost:
			h(w, r)
		case r.Method != http.MethodGet && r.Method != http.MethodHead:
			w.Header().Set("Allow", allowOf(r.URL.Path))
			writeText(w, http.StatusMethodNotAllowed, "method not allowed\n")
		default:
			h(w, r)
		}
	})
}

// recoverPanic turns a handler panic into a logged error and a 500. Handlers build their
// whole body before writing, so nothing has been sent when they panic.
func (s *Server) recoverPanic(w http.ResponseWriter, r *http.Request) {
	if v := recover(); v != nil {
		s.opts.Log.Error("admin handler panic", "path", r.URL.Path, "panic", v)
		writeText(w, http.StatusInternalServerError, "internal error\n")
	}
}

// healthz answers 200 "ok", or 503 "draining" while the SIP service drains.
func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	if s.opts.SIP != nil && s.opts.SIP.Draining() {
		writeText(w, http.StatusServiceUnavailable, "draining\n")
		return
	}
	writeText(w, http.StatusOK, "ok\n")
}

// metrics answers the Prometheus text exposition format 0.0.4: the snapshot's families and
// those of Options.Metrics (histograms, calls by result, Go runtime and process).
func (s *Server) metrics(w http.ResponseWriter, _ *http.Request) {
	sn := s.snapshot()
	var b bytes.Buffer
	if err := s.writeMetrics(&b, &sn); err != nil {
		s.opts.Log.Error("admin metrics", "err", err)
		writeText(w, http.StatusInternalServerError, "internal error\n")
		return
	}
	write(w, http.StatusOK, metricsContentType, b.Bytes())
}

// status answers the figures of /metrics as JSON.
func (s *Server) status(w http.ResponseWriter, _ *http.Request) {
	sn := s.snapshot()
	body, err := json.MarshalIndent(statusOf(&sn), "", "  ")
	if err != nil {
		panic(err) // statusOf holds only numbers, strings and maps with int keys
	}
	write(w, http.StatusOK, "application/json", append(body, '\n'))
}

func writeText(w http.ResponseWriter, code int, body string) {
	write(w, code, "text/plain; charset=utf-8", []byte(body))
}

func write(w http.ResponseWriter, code int, ctype string, body []byte) {
	h := w.Header()
	h.Set("Content-Type", ctype)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	w.Write(body)
}
