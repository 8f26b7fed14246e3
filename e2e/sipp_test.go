package e2e

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// sipp describes one SIPp run: a scenario from testdata, its local address, the keywords the
// scenario reads (-key), and optional digest credentials.
type sipp struct {
	name     string            // log and trace names in the run folder
	scenario string            // file in testdata
	ip       string            // local address (-i)
	port     int               // local SIP port (-p); 0 picks a free one
	keys     map[string]string // -key name value
	user     string            // -au (and -s)
	password string            // -ap
	calls    int               // -m; 0 runs until stopped (a UAS)
	holdMs   int               // -d: how long call.xml holds an answered call
	rate     int               // -r calls per second (default 10)
	limit    int               // -l simultaneous calls (default 10)
	tcp      bool              // SIP over TCP (-t t1) instead of UDP
	extra    []string          // more SIPp options
	proc     *proc             // the running UAS, after start
}

// args builds the SIPp command line for a run in dir against remote ("" for a UAS).
func (s *sipp) args(t *testing.T, dir, remote string) []string {
	t.Helper()
	if s.port == 0 {
		s.port = freePort(t, s.ip)
	}
	scenario := filepath.Join(repoRoot(t), "e2e", "testdata", s.scenario)
	a := []string{"sipp", "-sf", scenario, "-i", s.ip, "-p", fmt.Sprint(s.port),
		"-mp", fmt.Sprint(freePortPair(t, s.ip)), "-ci", s.ip, "-cp", fmt.Sprint(freePort(t, s.ip)),
		"-nostdin", "-trace_msg", "-message_file", filepath.Join(dir, s.name+".msg"),
		"-trace_err", "-error_file", filepath.Join(dir, s.name+".err"),
		"-timeout_error", "-max_recv_loops", "1000"}
	if s.calls > 0 {
		rate := s.rate
		if rate == 0 {
			rate = 10
		}
		limit := s.limit
		if limit == 0 {
			limit = 10
		}
		a = append(a, "-m", fmt.Sprint(s.calls), "-r", fmt.Sprint(rate), "-l", fmt.Sprint(limit), "-timeout", "30s")
	}
	if s.holdMs > 0 {
		a = append(a, "-d", fmt.Sprint(s.holdMs))
	}
	if s.user != "" {
		a = append(a, "-s", s.user, "-au", s.user, "-ap", s.password)
	}
	if s.tcp {
		a = append(a, "-t", "t1")
	}
	a = append(a, s.extra...)
	for k, v := range s.keys {
		a = append(a, "-key", k, v)
	}
	if remote != "" {
		a = append(a, remote)
	}
	return a
}

// background starts a UAC scenario against remote without waiting for it; wait with
// s.proc.wait.
func (s *sipp) background(t *testing.T, dir, remote string) {
	t.Helper()
	s.proc = startProc(t, dir, s.name, s.args(t, dir, remote)...)
}

// run runs a UAC scenario to completion against remote and returns an error unless every
// call succeeded (SIPp exits 0).
//
// Free ports are probed, then released for SIPp to bind, so another process may take one in
// between; when SIPp could not bind a port and ran no call, the run is retried on new ports.
func (s *sipp) run(t *testing.T, dir, remote string) error {
	t.Helper()
	autoPort := s.port == 0
	for attempt := 1; ; attempt++ {
		if autoPort {
			s.port = 0
		}
		p := startProc(t, dir, s.name, s.args(t, dir, remote)...)
		ok, err := p.wait(60 * time.Second)
		if !ok {
			p.stop(t)
			return fmt.Errorf("sipp %s still running after 60 s", s.name)
		}
		if err == nil {
			return nil
		}
		if attempt < 3 && s.bindFailed(dir) {
			t.Logf("sipp %s could not bind a port (attempt %d): retrying on new ports", s.name, attempt)
			continue
		}
		return fmt.Errorf("sipp %s: %v (see %s and %s)", s.name, err, s.name+".log", s.name+".err")
	}
}

// bindFailed reports whether SIPp's last run failed to bind one of its ports before any call.
func (s *sipp) bindFailed(dir string) bool {
	b, err := os.ReadFile(filepath.Join(dir, s.name+".err"))
	return err == nil && strings.Contains(string(b), "Unable to bind") && !strings.Contains(string(b), "Call-Id")
}

// start runs a UAS scenario in the background until the test ends.
func (s *sipp) start(t *testing.T, dir string) *proc {
	t.Helper()
	autoPort := s.port == 0
	for attempt := 1; ; attempt++ {
		p, err := s.tryStart(t, dir)
		if err == nil {
			return p
		}
		if attempt < 3 && s.bindFailed(dir) {
			t.Logf("sipp %s could not bind a port (attempt %d): retrying on new ports", s.name, attempt)
			if autoPort {
				s.port = 0
			}
			continue
		}
		t.Fatal(err)
	}
}

// tryStart starts a UAS once and waits until it has bound its SIP port.
func (s *sipp) tryStart(t *testing.T, dir string) (*proc, error) {
	t.Helper()
	p := startProc(t, dir, s.name, s.args(t, dir, "")...)
	s.proc = p
	// Ready once its SIP port is taken: binding it ourselves then fails.
	err := eventually(5*time.Second, func() error {
		if !p.running() {
			return fmt.Errorf("sipp %s exited at start: %s", s.name, tail(p.log, 20))
		}
		c, err := net.ListenPacket("udp", net.JoinHostPort(s.ip, strconv.Itoa(s.port)))
		if err != nil {
			return nil
		}
		c.Close()
		return fmt.Errorf("sipp %s has not bound %s:%d yet", s.name, s.ip, s.port)
	})
	if err != nil {
		p.stop(t)
		return nil, err
	}
	return p, nil
}

// received returns the SIP requests of a method that a SIPp instance logged as received
// (-trace_msg), each as its full text.
func received(dir, name, method string) []string {
	b, err := os.ReadFile(filepath.Join(dir, name+".msg"))
	if err != nil {
		return nil
	}
	var msgs []string
	for _, block := range strings.Split(string(b), "----------------------------------------------- ") {
		i := strings.Index(block, "message received")
		if i < 0 {
			continue
		}
		body := block[i:]
		nl := strings.Index(body, "\n")
		if nl < 0 {
			continue
		}
		msg := strings.TrimLeft(body[nl+1:], "\r\n")
		if strings.HasPrefix(msg, method+" ") {
			msgs = append(msgs, msg)
		}
	}
	return msgs
}

// headerValues returns the values of every header called name (case-insensitive) in msg.
func headerValues(msg, name string) []string {
	var vals []string
	for _, line := range strings.Split(msg, "\n") {
		line = strings.TrimRight(line, "\r")
		if line == "" {
			break
		}
		k, v, ok := strings.Cut(line, ":")
		if ok && strings.EqualFold(strings.TrimSpace(k), name) {
			vals = append(vals, strings.TrimSpace(v))
		}
	}
	return vals
}
