package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

var adminRE = regexp.MustCompile(`msg="admin listening".* addr=(127\.0\.0\.1:\d+)`)

// "sidecar serve" with [admin] listen on port 0: the log names the bound port, /healthz is
// 200 while serving and 503 during the drain (a call is still up), /metrics counts the
// OPTIONS it answered, and SIGTERM still exits 0 and closes the admin port.
func TestServeAdmin(t *testing.T) {
	bin := sidecarBinary(t)
	dir := t.TempDir()
	ini := filepath.Join(dir, "sidecar.ini")
	os.WriteFile(ini, []byte("[sip]\nlisten = udp:127.0.0.1:0\ndrain-grace = 3s\n"+
		"[admin]\nlisten = 127.0.0.1:0\n"), 0o644)
	sc := startServe(t, bin, dir, ini)
	sipAddr := sc.waitLog(t, listenRE, "sip service listening")
	adminAddr := sc.waitLog(t, adminRE, "admin listening")
	base := "http://" + adminAddr

	if code, body := httpGet(t, base+"/healthz"); code != 200 || body != "ok\n" {
		t.Errorf("/healthz: %d %q, want 200 ok", code, body)
	}

	conn, err := net.Dial("udp", sipAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	local := conn.LocalAddr().String()
	options := fmt.Sprintf("OPTIONS sip:%s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bKadm1\r\n"+
		"Max-Forwards: 70\r\nFrom: <sip:probe@127.0.0.1>;tag=1\r\nTo: <sip:%s>\r\nCall-ID: admin-1\r\n"+
		"CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n", sipAddr, local, sipAddr)
	if got := roundTrip(t, conn, options); !strings.HasPrefix(got, "SIP/2.0 200") {
		t.Fatalf("OPTIONS: got %q", firstLine(got))
	}
	code, metrics := httpGet(t, base+"/metrics")
	for _, want := range []string{"\nsidecar_options_total 1\n", "\nsidecar_calls_total 0\n",
		"\nsidecar_draining 0\n", "\nsidecar_media_sessions_active 0\n", "sidecar_build_info{version=\"",
		"\nsidecar_voicemail_deposits_total{outcome=\"ok\"} 0\n", "\nsidecar_mwi_subscriptions_active 0\n"} {
		if code != 200 || !strings.Contains(metrics, want) {
			t.Errorf("/metrics: %d, no %q in\n%s", code, strings.TrimSpace(want), metrics)
		}
	}

	// An answered call that is never acknowledged stays up through the drain grace.
	invite := fmt.Sprintf("INVITE sip:*43@%s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bKadm2\r\n"+
		"Max-Forwards: 70\r\nFrom: <sip:1001@127.0.0.1>;tag=2\r\nTo: <sip:*43@%s>\r\nCall-ID: admin-2\r\n"+
		"CSeq: 1 INVITE\r\nContact: <sip:1001@%s>\r\nX-Caller-Template: subscriber;user=1001\r\n"+
		"Content-Length: 0\r\n\r\n", sipAddr, local, sipAddr, local)
	got := finalAnswer(t, conn, invite)
	if !strings.HasPrefix(got, "SIP/2.0 200") {
		t.Fatalf("INVITE *43: got %q\n%s", firstLine(got), sc.log.String())
	}
	if _, metrics := httpGet(t, base+"/metrics"); !strings.Contains(metrics, "\nsidecar_calls_active 1\n") {
		t.Errorf("/metrics during the call has no sidecar_calls_active 1:\n%s", metrics)
	}

	sc.signal(t, syscall.SIGTERM)
	// The grace is 3s: within it, /healthz must turn 503.
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(3 * time.Second)
	for code, body := httpGet(t, base+"/healthz"); code != 503 || body != "draining\n"; code, body = httpGet(t, base+"/healthz") {
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("/healthz during the drain: %d %q, want 503 draining\n%s", code, body, sc.log.String())
		}
	}

	sc.waitExit(t)
	if !strings.Contains(sc.log.String(), `msg="admin listening" component=admin addr=`+adminAddr) {
		t.Errorf("log line:\n%s", sc.log.String())
	}
	if c, err := net.DialTimeout("tcp", adminAddr, time.Second); err == nil {
		c.Close()
		t.Errorf("admin port %s still open after exit", adminAddr)
	}
}

// serve refuses an admin address it must not expose, before any SIP listener is up.
func TestServeAdminRemote(t *testing.T) {
	// config.Validate refuses it first; the message names the file, line and the fix.
	ini := filepath.Join(t.TempDir(), "sidecar.ini")
	os.WriteFile(ini, []byte("[admin]\nlisten = 0.0.0.0:0\n"), 0o644)
	var stdout, stderr strings.Builder
	code := run([]string{"serve", "-config", ini}, strings.NewReader(""), &stdout, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), "sidecar.ini:2: [admin] listen: 0.0.0.0:0 is not a loopback address; set allow-remote = yes") {
		t.Errorf("exit %d, stderr %q", code, stderr.String())
	}
}

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// serve fails with a clear message when the admin port is taken.
func TestServeAdminPortTaken(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ini := filepath.Join(t.TempDir(), "sidecar.ini")
	os.WriteFile(ini, []byte("[sip]\nlisten = udp:127.0.0.1:0\n[admin]\nlisten = "+ln.Addr().String()+"\n"), 0o644)
	var stdout, stderr strings.Builder
	code := run([]string{"serve", "-config", ini}, strings.NewReader(""), &stdout, &stderr)
	want := "sidecar serve: listen admin: listen tcp " + ln.Addr().String() + ": bind: address already in use"
	if code != 1 || !strings.Contains(stderr.String(), want) {
		t.Errorf("exit %d, stderr %q; want 1 and %q", code, stderr.String(), want)
	}
}
