package main

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sidecar-voip/sidecar/routing"
)

// reloadSetup writes a settings file and a template directory whose one extension answers
// with app, and returns the settings file's path and the directory.
func reloadSetup(t *testing.T, extra, app string) (ini, dir string) {
	t.Helper()
	root := t.TempDir()
	dir = filepath.Join(root, "templates")
	os.MkdirAll(dir, 0o755)
	writeTemplates(t, dir, app)
	ini = filepath.Join(root, "sidecar.ini")
	mustWriteFile(t, ini, "[general]\ntemplates = "+dir+"\n"+extra+
		"[sip]\nlisten = udp:127.0.0.1:0\ndrain-grace = 1s\n")
	return ini, dir
}

func writeTemplates(t *testing.T, dir, app string) {
	t.Helper()
	mustWriteFile(t, filepath.Join(dir, "t.conf"), "[sub]\ncontext = c\n")
	mustWriteFile(t, filepath.Join(dir, "extensions.conf"), "[c]\nexten => _X.,1,"+app+"\n")
}

func mustWriteFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// call sends one INVITE as template sub and returns the final status line.
func call(t *testing.T, addr string, n int) string {
	t.Helper()
	conn, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	local := conn.LocalAddr().String()
	invite := fmt.Sprintf("INVITE sip:100@%s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bKreload%d\r\n"+
		"Max-Forwards: 70\r\nFrom: <sip:1001@127.0.0.1>;tag=r%d\r\nTo: <sip:100@%s>\r\nCall-ID: reload-%d\r\n"+
		"CSeq: 1 INVITE\r\nContact: <sip:1001@%s>\r\nX-Caller-Template: sub\r\n"+
		"Content-Length: 0\r\n\r\n", addr, local, n, n, addr, n, local)
	got := finalAnswer(t, conn, invite)
	return firstLine(got)
}

// waitLogCount waits until marker appears n times in the log.
func (sc *served) waitLogCount(t *testing.T, marker string, n int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if strings.Count(sc.log.String(), marker) >= n {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%q not %d times in the log:\n%s", marker, n, sc.log.String())
}

// SIGHUP on a running "sidecar serve": a clean edit changes what the next call gets; a
// broken one is refused with its file:line and the running dialplan stays; a changed listen
// address is reported as needing a restart while the rest applies.
func TestServeReloadSIGHUP(t *testing.T) {
	bin := sidecarBinary(t)
	ini, dir := reloadSetup(t, "", "Busy()")
	sc := startServe(t, bin, t.TempDir(), ini)
	addr := sc.waitLog(t, listenRE, "sip service listening")
	if got := call(t, addr, 1); !strings.HasPrefix(got, "SIP/2.0 486") {
		t.Fatalf("before the reload: %q", got)
	}

	writeTemplates(t, dir, "Congestion()")
	sc.signal(t, syscall.SIGHUP)
	sc.waitLogCount(t, `msg="reload applied"`, 1)
	if got := call(t, addr, 2); !strings.HasPrefix(got, "SIP/2.0 503") {
		t.Errorf("after the reload: %q, want 503 (Congestion)", got)
	}

	mustWriteFile(t, filepath.Join(dir, "extensions.conf"), "[c]\nexten => _X.,1,Congestion()\n same => n,NoSuchApp()\n")
	sc.signal(t, syscall.SIGHUP)
	sc.waitLogCount(t, `reload refused: `+filepath.Join(dir, "extensions.conf")+`:3: `, 1)
	if got := call(t, addr, 3); !strings.HasPrefix(got, "SIP/2.0 503") {
		t.Errorf("after a refused reload: %q, want the running dialplan's 503", got)
	}

	writeTemplates(t, dir, "Busy()")
	text, _ := os.ReadFile(ini)
	mustWriteFile(t, ini, strings.Replace(string(text), "udp:127.0.0.1:0", "udp:127.0.0.1:1", 1))
	sc.signal(t, syscall.SIGHUP)
	sc.waitLogCount(t, `msg="reload applied"`, 2)
	if !strings.Contains(sc.log.String(), `needs a restart; the old value stays in use" component=reload reason=sighup setting="[sip] listen"`) {
		t.Errorf("no restart-needed line for [sip] listen:\n%s", sc.log.String())
	}
	if got := call(t, addr, 4); !strings.HasPrefix(got, "SIP/2.0 486") {
		t.Errorf("after a reload needing a restart: %q, want the new dialplan's 486 on the old address", got)
	}

	sc.signal(t, syscall.SIGTERM)
	sc.waitExit(t)
}

// With [general] watch = yes an edit is picked up without a signal; POST /reload on the
// admin endpoint answers the result as JSON, 422 with the file:line errors when refused.
func TestServeReloadWatchAndHTTP(t *testing.T) {
	bin := sidecarBinary(t)
	ini, dir := reloadSetup(t, "watch = yes\n[admin]\nlisten = 127.0.0.1:0\n", "Busy()")
	sc := startServe(t, bin, t.TempDir(), ini)
	addr := sc.waitLog(t, listenRE, "sip service listening")
	admin := sc.waitLog(t, adminRE, "admin listening")
	sc.waitLog(t, regexp.MustCompile(`(watching for changes)`), "watching for changes")

	// The watcher may start a moment after the log line: edit until a reload comes.
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(sc.log.String(), "reason=watch") && time.Now().Before(deadline) {
		writeTemplates(t, dir, "Congestion()")
		time.Sleep(200 * time.Millisecond)
	}
	sc.waitLogCount(t, `msg="reload applied" component=reload reason=watch`, 1)
	if got := call(t, addr, 1); !strings.HasPrefix(got, "SIP/2.0 503") {
		t.Errorf("after the watched edit: %q, want 503", got)
	}

	resp, err := http.Post("http://"+admin+"/reload", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	var res routing.Result
	err = json.NewDecoder(resp.Body).Decode(&res)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 || !res.OK || res.Reason != "http" {
		t.Errorf("POST /reload: %d %+v %v", resp.StatusCode, res, err)
	}

	mustWriteFile(t, filepath.Join(dir, "t.conf"), "[sub]\ncontext = c\ncodec = bogus\n")
	sc.waitLogCount(t, "reload refused: "+filepath.Join(dir, "t.conf")+":3: ", 1)
	resp, err = http.Post("http://"+admin+"/reload", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	res = routing.Result{}
	err = json.NewDecoder(resp.Body).Decode(&res)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 422 || res.OK || len(res.Errors) != 1 ||
		!strings.HasPrefix(res.Errors[0], filepath.Join(dir, "t.conf")+":3: ") {
		t.Errorf("POST /reload of a broken file: %d %+v %v", resp.StatusCode, res, err)
	}
	if got := call(t, addr, 2); !strings.HasPrefix(got, "SIP/2.0 503") {
		t.Errorf("after refused reloads: %q, want the running 503", got)
	}
	sc.signal(t, syscall.SIGTERM)
	sc.waitExit(t)
}
