package admin_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
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
		// Everything under /static/ is routed to the file server: another method than GET
		// or HEAD gets 405 there, as on every route (testdata/fuzz/FuzzHandler/951d03c04cbf98eb:
		// method "0" on "/static/"); GET a file that is not there gets 404.
		static := strings.HasPrefix(u.Path, "/static/") && !known[u.Path]
		switch {
		case static && method != "GET" && method != "HEAD":
			if rec.Code != 405 {
				t.Errorf("%s %q: %d, want 405", method, path, rec.Code)
			}
		case static:
			if rec.Code != 404 && rec.Code != 200 {
				t.Errorf("%s %q: %d, want 200 or 404", method, path, rec.Code)
			}
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

// The page's render form over any POST body: the page answers 200 or 400, never panics, and
// what was typed comes back escaped (the page is html/template).
func FuzzRenderForm(f *testing.F) {
	for _, s := range []string{
		"request=INVITE+sip%3A1%40b+SIP%2F2.0%0A%0A&source=127.0.0.1%3A5060&transport=udp",
		"request=%3Cscript%3Ealert(1)%3C%2Fscript%3E&source=x&transport=udp",
		"source=%5B%3A%3A1%5D%3A5060&transport=tls&request=",
		"%zz=1&&&=",
		"transport=sctp",
	} {
		f.Add([]byte(s))
	}
	render := func(_ context.Context, raw []byte, src netip.AddrPort, transport string) (any, error) {
		if len(raw) == 0 {
			return nil, errors.New("empty")
		}
		return map[string]string{"raw": string(raw), "src": src.String(), "transport": transport}, nil
	}
	h := admin.New(admin.Options{SIP: sampleSIP(), Media: sampleMedia(), Version: "v", Render: render}).Handler()
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest("POST", "/", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 200 && rec.Code != 400 {
			t.Fatalf("POST %q: %d, want 200 or 400", body, rec.Code)
		}
		if strings.Contains(rec.Body.String(), "<script>") {
			t.Fatalf("POST %q: the page carries an unescaped <script>", body)
		}
	})
}
