package sipsvc_test

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/sidecar-voip/sidecar/config"
)

// sippBinary returns SIPp's path; without it the test is skipped, unless SIDECAR_E2E=1
// demands the end-to-end suite, where it fails.
func sippBinary(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("sipp")
	if err != nil {
		if os.Getenv("SIDECAR_E2E") == "1" {
			t.Fatalf("sipp not on PATH (SIDECAR_E2E=1): %v", err)
		}
		t.Skip("sipp not on PATH; install sip-tester or set SIDECAR_E2E=1 to make this a failure")
	}
	return p
}

// freePort probes a free UDP port on ip.
func freePort(t *testing.T, ip string) int {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(ip)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// runSipp runs one SIPp scenario of testdata/sipp from bindIP against the service for calls
// calls, and fails the test unless SIPp exits 0 (every call successful).
func runSipp(t *testing.T, e *env, scenario, bindIP, service string, calls int) {
	t.Helper()
	bin := sippBinary(t)
	dir := t.TempDir()
	errFile := filepath.Join(dir, "errors.log")
	args := []string{
		"-sf", filepath.Join("testdata", "sipp", scenario),
		"-m", strconv.Itoa(calls), "-r", "20",
		"-timeout", "20s", "-timeout_error",
		"-i", bindIP, "-p", strconv.Itoa(freePort(t, bindIP)),
		"-ci", bindIP, "-cp", strconv.Itoa(freePort(t, bindIP)),
		"-s", service, "-nostdin",
		"-trace_err", "-error_file", errFile,
		e.udp.String(),
	}
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir, _ = os.Getwd()
	out, err := cmd.CombinedOutput()
	if err != nil {
		code := -1
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		}
		errs, _ := os.ReadFile(errFile)
		t.Fatalf("sipp %s: exit %d (%v)\nerrors:\n%s\noutput tail:\n%s", scenario, code, err, errs, tail(out, 2000))
	}
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

// The core flows driven by SIPp, the peer most operators test with.
func TestSIPp(t *testing.T) {
	sippBinary(t)
	e := startEnv(t, func(c *config.Config) { c.SIP.Trusted = config.MustParseTrustList("127.0.0.1/32") })

	t.Run("options 200", func(t *testing.T) {
		before := e.srv.Stats().Options
		runSipp(t, e, "options.xml", "127.0.0.1", "x", 5)
		if got := e.srv.Stats().Options - before; got != 5 {
			t.Errorf("service answered %d OPTIONS, want 5", got)
		}
	})
	t.Run("busy 486", func(t *testing.T) {
		runSipp(t, e, "busy.xml", "127.0.0.1", "busy", 5)
		if got := e.srv.Stats().Rejected[486]; got != 5 {
			t.Errorf("service answered 486 %d times, want 5", got)
		}
	})
	t.Run("transfer 302", func(t *testing.T) {
		runSipp(t, e, "transfer.xml", "127.0.0.1", "transfer", 3)
		if got := e.srv.Stats().Rejected[302]; got != 3 {
			t.Errorf("service answered 302 %d times, want 3", got)
		}
	})
	t.Run("answer and bye", func(t *testing.T) {
		runSipp(t, e, "answer.xml", "127.0.0.1", "answer", 3)
		waitFor(t, 3*time.Second, "calls ended", func() bool { return e.srv.Stats().CallsActive == 0 })
		if got := e.srv.Stats().Answered; got != 3 {
			t.Errorf("service answered %d calls, want 3", got)
		}
	})
	t.Run("untrusted 403", func(t *testing.T) {
		before := e.srv.Stats().Untrusted
		runSipp(t, e, "untrusted.xml", "127.0.0.2", "busy", 2)
		// Per call: OPTIONS and INVITE answered 403, and the ACK of the 403 discarded at the
		// socket; all three counted.
		waitFor(t, 2*time.Second, "6 untrusted messages counted", func() bool {
			return e.srv.Stats().Untrusted-before == 6
		})
	})
}
