package admin_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sidecar-voip/sidecar/admin"
	"github.com/sidecar-voip/sidecar/app"
	"github.com/sidecar-voip/sidecar/config"
	"github.com/sidecar-voip/sidecar/push"
	"github.com/sidecar-voip/sidecar/routing"
)

const testToken = "0123456789abcdef-test"

// api is a running admin server with the template API over the shipped templates.
type api struct {
	url   string
	store *push.Store
	live  *routing.Live
	now   time.Time
	mu    sync.Mutex
}

func (a *api) clock() time.Time {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.now
}

func (a *api) advance(d time.Duration) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.now = a.now.Add(d)
}

// startAPI serves the template API; dir is the push directory ("" for memory only).
func startAPI(t *testing.T, token, dir string) *api {
	t.Helper()
	reg, err := app.NewRegistry(app.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	a := &api{now: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)}
	var initial []push.Entry
	if dir != "" {
		if initial, err = push.ReadDir(dir, a.clock()); err != nil {
			t.Fatal(err)
		}
	}
	opts := routing.Options{Config: config.Default(), Apps: reg, Pushed: push.Pushed(initial)}
	b, d := routing.Load(opts)
	if err := d.Err(); err != nil {
		t.Fatal(err)
	}
	a.live = routing.NewLive(b)
	a.store = push.New(push.Options{Rebuilder: push.NewLiveRebuilder(opts, a.live), Dir: dir, Initial: initial, Now: a.clock})
	a.url = startServer(t, admin.Options{Token: token, Routing: a.store, Push: a.store})
	return a
}

// call sends a request with an optional token and content type.
func (a *api) call(t *testing.T, method, path, ctype, body, token string) response {
	t.Helper()
	req, err := http.NewRequest(method, a.url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{resp.StatusCode, resp.Header, string(b)}
}

func wantCode(t *testing.T, r response, code int, what string) {
	t.Helper()
	if r.code != code {
		t.Fatalf("%s: %d %s, want %d", what, r.code, r.body, code)
	}
}

func decode[T any](t *testing.T, r response) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(r.body), &v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
	return v
}

type templateOut struct {
	Name    string `json:"name"`
	Origin  string `json:"origin"`
	Expires string `json:"expires"`
	Text    string `json:"text"`
	Profile struct {
		Codecs     []string `json:"codecs"`
		Context    string   `json:"context"`
		MailboxID  string   `json:"mailbox_id"`
		MailboxPIN string   `json:"mailbox_pin"`
	} `json:"profile"`
}

func TestTemplateAPILifecycle(t *testing.T) {
	a := startAPI(t, "", "")
	text := "[alice](subscriber)\ncodecs = g722, pcmu\nmailbox-id = 1000\nmailbox-pin = 4321\n"

	r := a.call(t, "PUT", "/templates/alice", "text/plain", text, "")
	wantCode(t, r, http.StatusCreated, "create")
	r = a.call(t, "GET", "/templates/alice", "", "", "")
	wantCode(t, r, http.StatusOK, "read")
	got := decode[templateOut](t, r)
	if got.Origin != "pushed" || strings.Join(got.Profile.Codecs, ",") != "g722,pcmu" || got.Profile.MailboxID != "1000" {
		t.Errorf("read: %+v", got)
	}
	if strings.Contains(r.body, "4321") || got.Profile.MailboxPIN != "****" {
		t.Errorf("the PIN is shown: %s", r.body)
	}
	if !strings.Contains(got.Text, "[alice](subscriber)\ncodecs = g722, pcmu\n") {
		t.Errorf("text:\n%s", got.Text)
	}

	// The list shows files with file:line and the push as pushed.
	r = a.call(t, "GET", "/templates", "", "", "")
	wantCode(t, r, http.StatusOK, "list")
	list := decode[struct{ Templates []templateOut }](t, r)
	origins := map[string]string{}
	for _, ti := range list.Templates {
		origins[ti.Name] = ti.Origin
	}
	if origins["alice"] != "pushed" || origins["subscriber"] != "endpoints.conf:37" {
		t.Errorf("origins: %v", origins)
	}

	// POST replaces like PUT (JSON this time): the whole section, no merge.
	r = a.call(t, "POST", "/templates/alice", "application/json", `{"parents":["subscriber"],"fields":{"codecs":"pcma"}}`, "")
	wantCode(t, r, http.StatusOK, "replace")
	got = decode[templateOut](t, a.call(t, "GET", "/templates/alice", "", "", ""))
	if strings.Join(got.Profile.Codecs, ",") != "pcma" || got.Profile.MailboxID == "1000" {
		t.Errorf("after replace: %+v (the old mailbox must be gone)", got.Profile)
	}

	// PATCH merges.
	r = a.call(t, "PATCH", "/templates/alice", "application/json", `{"fields":{"mailbox-id":"2000","context":"from-anonymous"}}`, "")
	wantCode(t, r, http.StatusOK, "patch")
	got = decode[templateOut](t, a.call(t, "GET", "/templates/alice", "", "", ""))
	if strings.Join(got.Profile.Codecs, ",") != "pcma" || got.Profile.MailboxID != "2000" || got.Profile.Context != "from-anonymous" {
		t.Errorf("after patch: %+v", got.Profile)
	}
	r = a.call(t, "PATCH", "/templates/alice", "application/json", `{"fields":{"context":null}}`, "")
	wantCode(t, r, http.StatusOK, "patch removing a field")
	if got = decode[templateOut](t, a.call(t, "GET", "/templates/alice", "", "", "")); got.Profile.Context != "from-subscriber" {
		t.Errorf("after removing context: %q, want the parent's", got.Profile.Context)
	}
	wantCode(t, a.call(t, "PATCH", "/templates/alice", "text/plain", "codecs = pcmu", ""), http.StatusUnsupportedMediaType, "patch in the dialect")
	wantCode(t, a.call(t, "PATCH", "/templates/nobody", "application/json", `{"fields":{}}`, ""), http.StatusNotFound, "patch of nothing")

	// DELETE.
	wantCode(t, a.call(t, "DELETE", "/templates/alice", "", "", ""), http.StatusNoContent, "delete")
	wantCode(t, a.call(t, "GET", "/templates/alice", "", "", ""), http.StatusNotFound, "read after delete")
	wantCode(t, a.call(t, "DELETE", "/templates/alice", "", "", ""), http.StatusNotFound, "delete again")
	wantCode(t, a.call(t, "DELETE", "/templates/subscriber", "", "", ""), http.StatusConflict, "delete of a file template")
	wantCode(t, a.call(t, "PUT", "/templates/subscriber", "text/plain", "mwi = no\n", ""), http.StatusConflict, "push over a file template")
}

func TestTemplateAPIBadInput(t *testing.T) {
	a := startAPI(t, "", "")
	tests := []struct {
		name, method, path, ctype, body string
		code                            int
		want                            string
	}{
		{"parser message", "PUT", "/templates/alice", "text/plain", "[alice](subscriber)\ncodecs = nosuch\n", 400, `pushed:alice:2: `},
		{"no such parent", "PUT", "/templates/alice", "text/plain", "[alice](nosuch)\n", 400, `pushed:alice:1: `},
		{"another name", "PUT", "/templates/alice", "text/plain", "[bob]\n", 400, `the body defines [bob] but the URL names alice`},
		{"bad name", "PUT", "/templates/a..b%2Fc", "text/plain", "x = y\n", 400, `template name`},
		{"bad JSON", "PUT", "/templates/alice", "application/json", `{"fields":`, 400, `read JSON template`},
		{"bad ttl", "PUT", "/templates/alice?ttl=soon", "text/plain", "[alice](subscriber)\n", 400, `ttl "soon"`},
		{"too big", "PUT", "/templates/alice", "text/plain", strings.Repeat("; x\n", push.MaxBody/4+1), 400, `larger than`},
		{"method", "GET", "/render", "", "", 405, ``},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := a.call(t, tc.method, tc.path, tc.ctype, tc.body, "")
			wantCode(t, r, tc.code, tc.name)
			if tc.want != "" {
				msg := decode[struct{ Error string }](t, r).Error
				if !strings.Contains(msg, tc.want) {
					t.Errorf("error %q, want it to contain %q", msg, tc.want)
				}
			}
		})
	}
	if a.live.Current().Section("alice") != nil {
		t.Error("a refused push reached the running set")
	}
}

func TestTemplateAPITTL(t *testing.T) {
	a := startAPI(t, "", "")
	wantCode(t, a.call(t, "PUT", "/templates/alice?ttl=60s", "text/plain", "[alice](subscriber)\n", ""), 201, "push with ?ttl")
	req, _ := http.NewRequest("PUT", a.url+"/templates/bob", strings.NewReader("[bob](subscriber)\n"))
	req.Header.Set("X-TTL", "120")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 201 {
		t.Fatalf("push with X-TTL: %v %v", resp, err)
	}
	resp.Body.Close()
	got := decode[templateOut](t, a.call(t, "GET", "/templates/alice", "", "", ""))
	if got.Expires != "2025-01-02T03:05:05Z" {
		t.Errorf("expires %q", got.Expires)
	}
	a.advance(time.Minute)
	if gone, err := a.store.Expire(); err != nil || fmt.Sprint(gone) != "[alice]" {
		t.Fatalf("expire: %v %v", gone, err)
	}
	wantCode(t, a.call(t, "GET", "/templates/alice", "", "", ""), 404, "alice after her TTL")
	wantCode(t, a.call(t, "GET", "/templates/bob", "", "", ""), 200, "bob before his TTL")
}

func TestTemplateAPIPersistence(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pushed")
	a := startAPI(t, "", dir)
	wantCode(t, a.call(t, "PUT", "/templates/alice", "application/json", `{"parents":["subscriber"],"fields":{"codecs":"g722"}}`, ""), 201, "push")
	if _, err := os.Stat(filepath.Join(dir, "alice.conf")); err != nil {
		t.Fatal(err)
	}
	b := startAPI(t, "", dir) // a new process over the same directory
	got := decode[templateOut](t, b.call(t, "GET", "/templates/alice", "", "", ""))
	if got.Origin != "pushed" || strings.Join(got.Profile.Codecs, ",") != "g722" {
		t.Errorf("after restart: %+v", got)
	}
}

func TestTemplateAPIConcurrentPuts(t *testing.T) {
	a := startAPI(t, "", "")
	var wg sync.WaitGroup
	for i := range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := fmt.Sprintf("u%d", i%4)
			r := a.call(t, "PUT", "/templates/"+name, "application/json",
				fmt.Sprintf(`{"parents":["subscriber"],"fields":{"mailbox-id":"%d"}}`, i), "")
			if r.code != 200 && r.code != 201 {
				t.Errorf("put %s: %d %s", name, r.code, r.body)
			}
		}()
	}
	wg.Wait()
	for i := range 4 {
		wantCode(t, a.call(t, "GET", fmt.Sprintf("/templates/u%d", i), "", "", ""), 200, "read")
	}
}

func TestAuthorize(t *testing.T) {
	remote, lo := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("127.0.0.1")
	tests := []struct {
		name, token, auth string
		from              netip.Addr
		write             bool
		want              admin.Access
	}{
		{"remote write without token", testToken, "", remote, true, admin.Unauthorized},
		{"remote read without token", testToken, "", remote, false, admin.Unauthorized},
		{"remote wrong token", testToken, "Bearer nope", remote, true, admin.Unauthorized},
		{"remote basic auth", testToken, "Basic " + testToken, remote, true, admin.Unauthorized},
		{"browser basic auth", testToken, "Basic " + base64.StdEncoding.EncodeToString([]byte("op:"+testToken)), remote, false, admin.Allowed},
		{"browser basic auth wrong", testToken, "Basic " + base64.StdEncoding.EncodeToString([]byte("op:nope")), remote, false, admin.Unauthorized},
		{"remote right token", testToken, "Bearer " + testToken, remote, true, admin.Allowed},
		{"loopback token set and missing", testToken, "", lo, true, admin.Unauthorized},
		{"loopback no token configured", "", "", lo, true, admin.Allowed},
		{"remote write, no token configured", "", "", remote, true, admin.LoopbackOnly},
		{"remote read, no token configured", "", "", remote, false, admin.Allowed},
		{"mapped loopback", "", "", netip.MustParseAddr("::ffff:127.0.0.1"), true, admin.Allowed},
	}
	for _, tc := range tests {
		if got := admin.Authorize(tc.token, tc.auth, tc.from, tc.write); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestTemplateAPIToken(t *testing.T) {
	a := startAPI(t, testToken, "")
	r := a.call(t, "GET", "/templates", "", "", "")
	wantCode(t, r, http.StatusUnauthorized, "without token")
	if r.header.Get("WWW-Authenticate") == "" || strings.Contains(r.body, testToken) {
		t.Errorf("401: %v %s", r.header, r.body)
	}
	wantCode(t, a.call(t, "PUT", "/templates/alice", "text/plain", "[alice](subscriber)\n", "wrong-token-0123456"), http.StatusUnauthorized, "wrong token")
	wantCode(t, a.call(t, "PUT", "/templates/alice", "text/plain", "[alice](subscriber)\n", testToken), http.StatusCreated, "with token")
	wantCode(t, a.call(t, "GET", "/metrics", "", "", ""), http.StatusUnauthorized, "metrics without token")
	wantCode(t, a.call(t, "GET", "/healthz", "", "", ""), http.StatusOK, "healthz stays open")
}

func TestRenderAPI(t *testing.T) {
	a := startAPI(t, "", "")
	wantCode(t, a.call(t, "PUT", "/templates/alice", "text/plain", "[alice](subscriber)\ncodecs = g722\n", ""), 201, "push")
	invite := "INVITE sip:*43@127.0.0.1 SIP/2.0\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK1\nFrom: <sip:alice@example.com>;tag=1\nTo: <sip:*43@example.com>\nCall-ID: r1\nCSeq: 1 INVITE\nContact: <sip:alice@127.0.0.1:5060>\nX-Caller-Template: alice\n\n"
	r := a.call(t, "POST", "/render", "message/sip", invite, "")
	wantCode(t, r, 200, "render")
	out := decode[struct {
		Caller struct {
			Template string   `json:"template"`
			Codecs   []string `json:"codecs"`
		} `json:"caller"`
		Dialplan struct{ Context string } `json:"dialplan"`
		Error    string                   `json:"error"`
	}](t, r)
	if out.Caller.Template != "alice" || strings.Join(out.Caller.Codecs, ",") != "g722" || out.Dialplan.Context != "from-subscriber" || out.Error != "" {
		t.Errorf("render: %s", r.body)
	}
	r = a.call(t, "POST", "/render?source=192.0.2.1:5060", "message/sip", invite, "")
	wantCode(t, r, 200, "render untrusted")
	if !strings.Contains(r.body, `"trusted": false`) || !strings.Contains(r.body, "not in [sip] trusted") {
		t.Errorf("untrusted render: %s", r.body)
	}
	wantCode(t, a.call(t, "POST", "/render", "message/sip", "hello\n", ""), 400, "render of junk")
}
