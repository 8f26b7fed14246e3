package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromiumPath finds Debian's chromium. Without it the browser test skips, and fails under
// SIDECAR_E2E=1 (make test installs it).
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("SIDECAR_E2E") == "1" {
		t.Fatal("chromium not found (SIDECAR_E2E=1): apt-get install chromium, or run scripts/test-deps.sh")
	}
	t.Skip("chromium not found; SIDECAR_E2E=1 makes this a failure")
	return ""
}

// browser starts headless chromium for the test and returns a chromedp context bounded by
// timeout.
func browser(t *testing.T, timeout time.Duration) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, timeout)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	return ctx
}

// text returns the visible text of the element sel selects.
func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(sel))
	if err != nil {
		t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

// pageRequest is what the test pastes into the render form: a subscriber calling the echo
// test through the shipped templates.
const pageRequest = "INVITE sip:*43@127.0.0.1 SIP/2.0\n" +
	"Via: SIP/2.0/UDP 127.0.0.1:5090;branch=z9hG4bK-browser\n" +
	"From: <sip:2002@example.com>;tag=b1\nTo: <sip:*43@example.com>\n" +
	"Call-ID: browser-render@127.0.0.1\nCSeq: 1 INVITE\n" +
	"X-Caller-Template: caller-endpoint\nContent-Length: 0\n\n"

// The status page of a real "sidecar serve", in headless Chromium: it shows the call in
// progress and the shipped templates with file:line, its stylesheet applies, and the render
// form, submitted, shows trust, the caller's profile and the dialplan path; an untrusted
// source shows the error. SIDECAR_SCREENSHOT=FILE saves the page (make screenshots).
func TestStatusPageInBrowser(t *testing.T) {
	ctx := browser(t, 90*time.Second)
	bin := sidecarBinary(t)
	dir := t.TempDir()
	ini := filepath.Join(dir, "sidecar.ini")
	os.WriteFile(ini, []byte("[sip]\nlisten = udp:127.0.0.1:0\ndrain-grace = 1s\nack-timeout = 60s\n"+
		"[admin]\nlisten = 127.0.0.1:0\n"), 0o644)
	sc := startServe(t, bin, dir, ini)
	sipAddr := sc.waitLog(t, listenRE, "sip service listening")
	base := "http://" + sc.waitLog(t, adminRE, "admin listening")

	// A call in progress: answered by *43 (Echo), its ACK never sent.
	conn, err := net.Dial("udp", sipAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	local := conn.LocalAddr().String()
	invite := fmt.Sprintf("INVITE sip:*43@%s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bKpage1\r\n"+
		"Max-Forwards: 70\r\nFrom: <sip:1001@127.0.0.1>;tag=p1\r\nTo: <sip:*43@%s>\r\nCall-ID: page-call-1\r\n"+
		"CSeq: 1 INVITE\r\nContact: <sip:1001@%s>\r\nX-Caller-Template: caller-endpoint\r\n"+
		"Content-Length: 0\r\n\r\n", sipAddr, local, sipAddr, local)
	got := finalAnswer(t, conn, invite)
	if !strings.HasPrefix(got, "SIP/2.0 200") {
		t.Fatalf("INVITE *43: got %q\n%s", firstLine(got), sc.log.String())
	}

	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/"), chromedp.WaitVisible("#render-form")); err != nil {
		t.Fatalf("load the page: %v\n%s", err, sc.log.String())
	}
	calls, templates, errorsText := text(t, ctx, "#calls"), text(t, ctx, "#templates"), text(t, ctx, "#errors")
	for _, want := range []string{"page-call-1", "caller-endpoint", "from-subscriber", "answered"} {
		if !strings.Contains(calls, want) {
			t.Errorf("active calls have no %q:\n%s", want, calls)
		}
	}
	if !regexp.MustCompile(`caller-endpoint\s+endpoints\.conf:\d+`).MatchString(templates) {
		t.Errorf("templates without caller-endpoint at endpoints.conf:LINE:\n%s", templates)
	}
	if !strings.Contains(errorsText, "none") {
		t.Errorf("reload and push errors:\n%s", errorsText)
	}
	headerBG, err := chromedp.Run(ctx, chromedp.Evaluate[string](`getComputedStyle(document.querySelector("header")).backgroundColor`))
	if err != nil || headerBG != "rgb(29, 35, 48)" {
		t.Errorf("header background %q (%v): the stylesheet did not apply", headerBG, err)
	}

	if err := chromedp.Do(ctx,
		chromedp.SetValue("#request", pageRequest),
		chromedp.SetValue("#source", "127.0.0.1:5090"),
		chromedp.Click("#render-submit"),
		chromedp.WaitVisible("#render-result"),
	); err != nil {
		t.Fatalf("submit the render form: %v\n%s", err, sc.log.String())
	}
	if trusted := text(t, ctx, "#render-trusted"); trusted != "yes" {
		t.Errorf("trusted: %q, want yes", trusted)
	}
	if caller := text(t, ctx, "#render-caller"); !strings.Contains(caller, `"template": "caller-endpoint"`) || !strings.Contains(caller, `"user": "2002"`) {
		t.Errorf("caller profile:\n%s", caller)
	}
	dialplan := text(t, ctx, "#render-dialplan")
	for _, want := range []string{`"context": "from-subscriber"`, `"exten": "*43"`, "Echo()"} {
		if !strings.Contains(dialplan, want) {
			t.Errorf("dialplan path has no %q:\n%s", want, dialplan)
		}
	}
	if shot := os.Getenv("SIDECAR_SCREENSHOT"); shot != "" {
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot: %v", err)
		}
		if err := os.WriteFile(shot, png, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	if err := chromedp.Do(ctx,
		chromedp.SetValue("#source", "192.0.2.1:5060"),
		chromedp.Click("#render-submit"),
		chromedp.WaitVisible("#render-error"),
	); err != nil {
		t.Fatalf("submit an untrusted source: %v", err)
	}
	if trusted, msg := text(t, ctx, "#render-trusted"), text(t, ctx, "#render-error"); trusted != "no" || !strings.Contains(msg, "192.0.2.1:5060 is not in [sip] trusted") {
		t.Errorf("untrusted: trusted %q, error %q", trusted, msg)
	}

	sc.signal(t, syscall.SIGTERM)
	sc.waitExit(t)
}
