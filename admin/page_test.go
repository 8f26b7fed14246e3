package admin_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sidecar-voip/sidecar/admin"
	"github.com/sidecar-voip/sidecar/sipsvc"
)

type fakeCalls []sipsvc.CallInfo

func (f fakeCalls) ActiveCalls() []sipsvc.CallInfo { return f }

type fakeEvents []admin.Event

func (f fakeEvents) RecentErrors() []admin.Event { return f }

// renderCall records what the page handed its RenderFunc.
type renderCall struct {
	mu        sync.Mutex
	raw       string
	src       netip.AddrPort
	transport string
}

func (rc *renderCall) render(_ context.Context, raw []byte, src netip.AddrPort, transport string) (any, error) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.raw, rc.src, rc.transport = string(raw), src, transport
	if strings.Contains(string(raw), "untrusted") {
		return map[string]any{"trusted": false}, errors.New("source 192.0.2.1:5060 is not in [sip] trusted")
	}
	return map[string]any{
		"trusted":  true,
		"identify": map[string]any{"chain": []string{"header"}, "matched": "header"},
		"caller":   map[string]any{"template": "caller-endpoint", "mailbox_pin": "****"},
		"callee":   nil,
		"dialplan": map[string]any{"context": "from-subscriber", "exten": "*43", "steps": []string{"extensions.conf:5: 1: Answer()"}},
	}, nil
}

func post(t *testing.T, base string, form url.Values) response {
	t.Helper()
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.PostForm(base+"/", form)
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

// The page shows the live calls, the templates with file:line, the counters, no errors
// (reload and push are planned) and the render form, HTML-escaped, with a strict CSP.
func TestPageGet(t *testing.T) {
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	base := startServer(t, admin.Options{
		SIP: sampleSIP(), Media: sampleMedia(), Version: "v1.2.3",
		Now: func() time.Time { return start.Add(90 * time.Second) }, Start: start,
		Calls: fakeCalls{{CallID: "abc@<script>", Source: netip.MustParseAddrPort("127.0.0.1:5090"),
			Start: start.Add(30 * time.Second), State: "confirmed", CallerTemplate: "caller-endpoint", Context: "from-subscriber"}},
		Templates: func() []admin.TemplateInfo {
			return []admin.TemplateInfo{{Name: "caller-endpoint", Pos: "default.conf:12"}}
		},
		Render: (&renderCall{}).render,
	})
	r := do(t, "GET", base+"/")
	if r.code != 200 || r.header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("GET /: %d %s", r.code, r.header.Get("Content-Type"))
	}
	if csp := r.header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("CSP %q", csp)
	}
	for _, want := range []string{
		`<b id="version">v1.2.3</b>`, "up 1m30s",
		`<td class="mono">abc@&lt;script&gt;</td>`, `<span class="state confirmed">confirmed</span>`, `title="2026-01-02T03:04:35Z">1m0s</td>`,
		`<tr><th>caller-endpoint</th><td class="mono">default.conf:12</td></tr>`,
		`<tr><th>calls total</th><td class="num">40</td></tr>`, `<tr><th>486</th><td class="num">3</td></tr>`,
		`<tr><th>RTP packets received</th><td class="num">4990</td></tr>`,
		`<p class="none">none</p>`,
		`<form id="render-form" method="post" action="/">`, "X-Caller-Template: caller-endpoint",
	} {
		if !strings.Contains(r.body, want) {
			t.Errorf("page has no %q:\n%s", want, r.body)
		}
	}
	if strings.Contains(r.body, "<script") || strings.Contains(r.body, "render-result") {
		t.Errorf("unescaped script or a result before any POST:\n%s", r.body)
	}

	css := do(t, "GET", base+"/static/style.css")
	if css.code != 200 || css.header.Get("Content-Type") != "text/css; charset=utf-8" || !strings.Contains(css.body, "body {") {
		t.Errorf("style.css: %d %s", css.code, css.header.Get("Content-Type"))
	}
}

// Reported errors replace "none"; without a render function the form is hidden.
func TestPageErrorsAndNoRender(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	base := startServer(t, admin.Options{Errors: fakeEvents{{Time: at, Kind: "reload", Message: "default.conf:3: unknown key"}}})
	r := do(t, "GET", base+"/")
	for _, want := range []string{"<td>2026-01-02T03:04:05Z</td><td>reload</td><td class=\"mono\">default.conf:3: unknown key</td>",
		"render is not available on this server"} {
		if !strings.Contains(r.body, want) {
			t.Errorf("page has no %q:\n%s", want, r.body)
		}
	}
	if strings.Contains(r.body, "planned") || strings.Contains(r.body, "render-form") {
		t.Errorf("planned note or form shown:\n%s", r.body)
	}
}

// POST / renders the submitted request with its source and transport and shows each part of
// the result; a rejection shows its error; a bad source or transport is a 400 naming it.
func TestPageRender(t *testing.T) {
	rc := &renderCall{}
	base := startServer(t, admin.Options{Render: rc.render})
	r := post(t, base, url.Values{"request": {"INVITE sip:*43@x SIP/2.0\r\n\r\n"}, "source": {" 127.0.0.1:5090 "}, "transport": {"tcp"}})
	if r.code != 200 {
		t.Fatalf("POST /: %d\n%s", r.code, r.body)
	}
	rc.mu.Lock()
	if rc.raw != "INVITE sip:*43@x SIP/2.0\r\n\r\n" || rc.src.String() != "127.0.0.1:5090" || rc.transport != "tcp" {
		t.Errorf("render got %q %v %q", rc.raw, rc.src, rc.transport)
	}
	rc.mu.Unlock()
	for _, want := range []string{
		`<span id="render-trusted" class="badge ok">yes</span>`,
		`<div class="card" id="render-identify"><h3>Identification</h3>`,
		`<div class="card" id="render-caller"><h3>Caller profile</h3><pre>{
  &#34;mailbox_pin&#34;: &#34;****&#34;,`,
		`<div class="card" id="render-callee"><h3>Callee profile</h3><pre>none</pre>`,
		`&#34;context&#34;: &#34;from-subscriber&#34;`,
		`<option value="tcp" selected>tcp</option>`,
	} {
		if !strings.Contains(r.body, want) {
			t.Errorf("result has no %q:\n%s", want, r.body)
		}
	}
	if strings.Contains(r.body, "render-error") {
		t.Errorf("an error shown for a successful render")
	}

	r = post(t, base, url.Values{"request": {"untrusted"}, "source": {"192.0.2.1:5060"}, "transport": {"udp"}})
	for _, want := range []string{`<span id="render-trusted" class="badge bad">no</span>`,
		`<p id="render-error" class="error">source 192.0.2.1:5060 is not in [sip] trusted</p>`} {
		if r.code != 200 || !strings.Contains(r.body, want) {
			t.Errorf("untrusted: %d, no %q:\n%s", r.code, want, r.body)
		}
	}

	for _, tc := range []struct{ source, transport, msg string }{
		{"127.0.0.1", "udp", `source &#34;127.0.0.1&#34;: want IP:PORT`},
		{"127.0.0.1:5060", "sctp", `transport &#34;sctp&#34;: want udp, tcp or tls`},
	} {
		r := post(t, base, url.Values{"request": {"x"}, "source": {tc.source}, "transport": {tc.transport}})
		if r.code != 400 || !strings.Contains(r.body, tc.msg) {
			t.Errorf("%s %s: %d, want 400 with %q:\n%s", tc.source, tc.transport, r.code, tc.msg, r.body)
		}
	}
}
