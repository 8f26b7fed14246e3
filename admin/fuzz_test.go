package admin_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/sidecar-voip/sidecar/admin"
)

// Whatever the method and path, the handler answers one of its known codes and never
// panics out of ServeHTTP.
func FuzzHandler(f *testing.F) {
	for _, s := range [][2]string{
		{"GET", "/healthz"}, {"GET", "/metrics"}, {"GET", "/status"}, {"HEAD", "/status"},
		{"POST", "/metrics"}, {"GET", "/../metrics"}, {"GET", "//healthz"}, {"OPTIONS", "*"},
		{"GET", "/%2e%2e/status"}, {"BREW", "/"}, {"POST", "/"}, {"GET", "/static/style.css"},
		{"GET", "/static/"}, {"GET", "/static/../page.html"},
	} {
		f.Add(s[0], s[1])
	}
	h := admin.New(admin.Options{SIP: sampleSIP(), Media: sampleMedia(), Version: "v"}).Handler()
	f.Fuzz(func(t *testing.T, method, path string) {
		if method == "" || strings.ContainsAny(method, " \t\r\n") {
			return
		}
		u, err := url.ParseRequestURI(path)
		if err != nil {
			return
		}
		req := &http.Request{Method: method, URL: u, Header: http.Header{}}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		known := map[string]bool{"/healthz": true, "/metrics": true, "/status": true, "/": true, "/static/style.css": true}
		switch {
		case !known[u.Path] && rec.Code != 404:
			t.Errorf("%s %q: %d, want 404", method, path, rec.Code)
		case u.Path == "/" && method == "POST":
			if rec.Code != 200 { // no body, no Render: the page says render is not available
				t.Errorf("%s %q: %d, want 200", method, path, rec.Code)
			}
		case known[u.Path] && method != "GET" && method != "HEAD" && rec.Code != 405:
			t.Errorf("%s %q: %d, want 405", method, path, rec.Code)
		case known[u.Path] && (method == "GET" || method == "HEAD") && rec.Code != 200:
			t.Errorf("%s %q: %d, want 200", method, path, rec.Code)
		}
	})
}
