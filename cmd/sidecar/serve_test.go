package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// sidecarBinary builds the sidecar binary once for the package's tests.
func sidecarBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "sidecar-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "sidecar")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

var listenRE = regexp.MustCompile(`udp:(127\.0\.0\.1:\d+)`)

// "sidecar serve -config FILE" from another directory, on the embedded templates: it logs
// its bound address, answers OPTIONS 200 and a call through the shipped dialplan, and exits
// 0 on SIGTERM after draining.
func TestServeBinary(t *testing.T) {
	bin := sidecarBinary(t)
	dir := t.TempDir()
	ini := filepath.Join(dir, "sidecar.ini")
	os.WriteFile(ini, []byte("[sip]\nlisten = udp:127.0.0.1:0, tcp:127.0.0.1:0\ndrain-grace = 1s\n"), 0o644)
	sc := startServe(t, bin, dir, ini) // dir is not the repository: the templates are embedded
	addr := sc.waitLog(t, listenRE, "sip service listening")

	conn, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	local := conn.LocalAddr().String()
	options := fmt.Sprintf("OPTIONS sip:%s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bKserve1\r\n"+
		"Max-Forwards: 70\r\nFrom: <sip:probe@127.0.0.1>;tag=1\r\nTo: <sip:%s>\r\nCall-ID: serve-1\r\n"+
		"CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n", addr, local, addr)
	if got := roundTrip(t, conn, options); !strings.HasPrefix(got, "SIP/2.0 200") {
		t.Fatalf("OPTIONS: got %q", firstLine(got))
	}

	// A call through the shipped templates and dialplan: a subscriber dialling *486.
	invite := fmt.Sprintf("INVITE sip:*486@%s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bKserve2\r\n"+
		"Max-Forwards: 70\r\nFrom: <sip:1001@127.0.0.1>;tag=2\r\nTo: <sip:*486@%s>\r\nCall-ID: serve-2\r\n"+
		"CSeq: 1 INVITE\r\nContact: <sip:1001@%s>\r\nX-Caller-Template: subscriber;user=1001\r\n"+
		"Content-Length: 0\r\n\r\n", addr, local, addr, local)
	got := finalAnswer(t, conn, invite)
	if !strings.HasPrefix(got, "SIP/2.0 486") {
		t.Errorf("INVITE *486: got %q\n%s", firstLine(got), sc.log.String())
	}

	sc.signal(t, syscall.SIGTERM)
	sc.waitExit(t)
	if !strings.Contains(sc.log.String(), "draining") {
		t.Errorf("no drain in the log:\n%s", sc.log.String())
	}
}

// served is a running "sidecar serve" binary whose log (stderr) is read as it comes.
type served struct {
	cmd     *exec.Cmd
	log     syncBuffer
	logDone chan struct{} // closed when the whole log has been read (the process exited)
}

// startServe runs "bin serve -config ini" in dir and reads its log in the background.
func startServe(t *testing.T, bin, dir, ini string) *served {
	t.Helper()
	isolateVoicemail(t, ini)
	return startServeCmd(t, dir, exec.Command(bin, "serve", "-config", ini))
}

// startServeCmd is startServe for a command of the test's making.
func startServeCmd(t *testing.T, dir string, cmd *exec.Cmd) *served {
	t.Helper()
	sc := &served{cmd: cmd, logDone: make(chan struct{})}
	sc.cmd.Dir = dir
	stderr, err := sc.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := sc.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sc.cmd.Process.Kill(); sc.cmd.Wait() })
	go func() {
		defer close(sc.logDone)
		lines := bufio.NewScanner(stderr)
		for lines.Scan() {
			sc.log.WriteString(lines.Text() + "\n")
		}
	}()
	return sc
}

// waitLog waits for a log line containing marker and returns re's first group in it.
func (sc *served) waitLog(t *testing.T, re *regexp.Regexp, marker string) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		for _, line := range strings.Split(sc.log.String(), "\n") {
			if m := re.FindStringSubmatch(line); m != nil && strings.Contains(line, marker) {
				return m[1]
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no %q line in the log:\n%s", marker, sc.log.String())
	return ""
}

func (sc *served) signal(t *testing.T, sig os.Signal) {
	t.Helper()
	if err := sc.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
}

// waitExit waits for the process to end and requires exit status 0. The log is read to its
// end before Wait, which closes the pipe (os/exec's rule).
func (sc *served) waitExit(t *testing.T) {
	t.Helper()
	select {
	case <-sc.logDone:
	case <-time.After(15 * time.Second):
		t.Fatalf("still running 15s after the signal\n%s", sc.log.String())
	}
	if err := sc.cmd.Wait(); err != nil {
		t.Fatalf("exit: %v\n%s", err, sc.log.String())
	}
}

func roundTrip(t *testing.T, conn net.Conn, text string) string {
	t.Helper()
	if text != "" {
		if _, err := io.WriteString(conn, text); err != nil {
			t.Fatal(err)
		}
	}
	conn.SetReadDeadline(time.Now().Add(3 * time.Second))
	buf := make([]byte, 4096)
	n, err := conn.Read(buf)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return string(buf[:n])
}

// finalAnswer sends text and returns the first final response read after it, skipping
// provisional responses and the PUBLISHes and NOTIFYs the sidecar sends to where a call
// came from (the shipped subscriber template publishes dialog state: BLF).
func finalAnswer(t *testing.T, conn net.Conn, text string) string {
	t.Helper()
	got := roundTrip(t, conn, text)
	for strings.HasPrefix(got, "SIP/2.0 1") || strings.HasPrefix(got, "PUBLISH ") || strings.HasPrefix(got, "NOTIFY ") {
		got = roundTrip(t, conn, "")
	}
	return got
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\r\n")
	return line
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) WriteString(v string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.b.WriteString(v)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// serve refuses what it cannot run with a clear message and status.
func TestServeErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.ini")
	os.WriteFile(bad, []byte("[sip]\nlisten = udp:127.0.0.1\n"), 0o644)
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"extra argument", []string{"serve", "extra"}, 2, "usage: sidecar serve"},
		{"unknown flag", []string{"serve", "-nope"}, 2, "-nope"},
		{"missing config", []string{"serve", "-config", filepath.Join(dir, "missing.ini")}, 1, "missing.ini"},
		{"bad config", []string{"serve", "-config", bad}, 1, "bad.ini:2"},
		{"missing templates", []string{"serve", "-templates", filepath.Join(dir, "none")}, 1, "load templates"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(tc.args, strings.NewReader(""), &stdout, &stderr)
			if code != tc.code || !strings.Contains(stderr.String(), tc.want) {
				t.Errorf("exit %d, stderr %q; want exit %d mentioning %q", code, stderr.String(), tc.code, tc.want)
			}
		})
	}
}

// isolateVoicemail gives the settings file ini a [voicemail] dir of its own under the test's
// temporary directory, unless it names one: a test never writes the default state directory.
func isolateVoicemail(t *testing.T, ini string) {
	t.Helper()
	b, err := os.ReadFile(ini)
	if err != nil || strings.Contains(string(b), "[voicemail]") {
		return
	}
	b = append(b, []byte("\n[voicemail]\ndir = "+filepath.Join(t.TempDir(), "voicemail")+"\n")...)
	if err := os.WriteFile(ini, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
