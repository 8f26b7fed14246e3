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

	"github.com/sidecar-voip/sidecar/internal/reliability"
)

// portCall is one SIPp echo call (echo_direct.xml, *43) straight to a sidecar whose SDP offers
// a socket of the test, so the test can check the echo itself.
type portCall struct {
	sipp *sipp
	conn *net.UDPConn
}

// newEchoCall prepares a SIPp run of n echo calls held holdMs, all offering one socket of
// the test (n > 1 only for calls whose media is not checked).
func newEchoCall(t *testing.T, name, callee string, n, holdMs int) *portCall {
	t.Helper()
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(kamIP), Port: freePortPair(t, kamIP)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &portCall{conn: conn, sipp: &sipp{name: name, scenario: "echo_direct.xml", ip: kamIP,
		calls: n, rate: 1000, limit: n, holdMs: holdMs,
		keys: map[string]string{"user": "alice", "domain": domain, "callee": callee,
			"rtp_ip": kamIP, "rtp_port": strconv.Itoa(conn.LocalAddr().(*net.UDPAddr).Port)}}}
}

// finals counts the final answers to the INVITEs of a SIPp run by status code.
func finals(dir, name string) map[int]int {
	got := map[int]int{}
	for _, m := range received(dir, name, "SIP/2.0") {
		if len(headerValues(m, "CSeq")) == 0 || !strings.HasSuffix(headerValues(m, "CSeq")[0], "INVITE") {
			continue
		}
		code, _ := strconv.Atoi(strings.Fields(m)[1])
		if code >= 200 {
			got[code]++
		}
	}
	return got
}

// answeredMedia waits for the 200 of a held echo call and returns the sidecar's media address.
func (e *portCall) answeredMedia(t *testing.T, dir string) string {
	t.Helper()
	var remote string
	if err := eventually(10*time.Second, func() error {
		for _, m := range received(dir, e.sipp.name, "SIP/2.0 200") {
			if strings.Contains(m, "m=audio ") {
				var err error
				remote, err = sdpMedia(m)
				return err
			}
		}
		return fmt.Errorf("no 200 with SDP yet")
	}); err != nil {
		t.Fatalf("echo call %s was not answered: %v\n%s", e.sipp.name, err, tail(filepath.Join(dir, e.sipp.name+".err"), 20))
	}
	return remote
}

// echoes checks that the call at remote echoes 25 packets.
func (e *portCall) echoes(t *testing.T, remote, when string) {
	t.Helper()
	res, err := checkEcho(e.conn, remote, 25)
	if err != nil || res.echoed < 20 {
		t.Fatalf("echo call %s %s: %+v, %v", e.sipp.name, when, res, err)
	}
}

// RTP port exhaustion through a running sidecar: [rtp] ports holds 2 pairs. Two echo calls
// take them; 8 more calls placed at once while they hold get 503 at once (not a timeout);
// the two keep echoing; once they end, two new calls get the pairs again.
func TestServeRTPPortExhaustion(t *testing.T) {
	requireE2E(t)
	dir := newRunDir(t)
	const pairs, extra = 2, 8
	sc := startSidecarStore(t, dir, "sidecar", sidecar1, echoTemplates(t, dir), filepath.Join(dir, "voicemail"), 2*pairs, "")
	waitLog(t, sc.log, `msg="sip service listening"`, 15*time.Second)

	// The held calls end by themselves (BYE) after 12 s.
	var held []*portCall
	var remotes []string
	for i := range pairs {
		c := newEchoCall(t, fmt.Sprintf("held-%d", i), "*43", 1, 12000)
		c.sipp.background(t, dir, sc.addr())
		remotes = append(remotes, c.answeredMedia(t, dir))
		held = append(held, c)
	}
	for i, c := range held {
		c.echoes(t, remotes[i], "before the pool ran dry")
	}

	over := newEchoCall(t, "over-capacity", "*43", extra, 0)
	start := time.Now()
	if err := over.sipp.run(t, dir, sc.addr()); err != nil {
		t.Fatalf("the calls over capacity did not all end with 503: %v\n%s", err, tail(filepath.Join(dir, "over-capacity.err"), 20))
	}
	took := time.Since(start)
	if got := finals(dir, "over-capacity"); got[503] != extra || len(got) != 1 {
		t.Fatalf("final answers to the calls over capacity: %v, want %d x 503", got, extra)
	}
	// SIPp retransmits an unanswered INVITE after 500 ms: an answer within it was at once.
	if took > 3*time.Second {
		t.Errorf("the %d calls over capacity took %v to be refused", extra, took)
	}
	for i, c := range held {
		c.echoes(t, remotes[i], "while the pool was dry")
	}
	for _, c := range held {
		if exited, err := c.sipp.proc.wait(30 * time.Second); !exited || err != nil {
			t.Fatalf("held call %s: exited %v, %v\n%s", c.sipp.name, exited, err, tail(filepath.Join(dir, c.sipp.name+".err"), 20))
		}
	}

	// The pairs are free again: two new calls get them and echo.
	for i := range pairs {
		c := newEchoCall(t, fmt.Sprintf("after-%d", i), "*43", 1, 2000)
		c.sipp.background(t, dir, sc.addr())
		c.echoes(t, c.answeredMedia(t, dir), "after the held calls ended")
		if exited, err := c.sipp.proc.wait(30 * time.Second); !exited || err != nil {
			t.Fatalf("call %s after the pool was freed: exited %v, %v", c.sipp.name, exited, err)
		}
	}
	if !sc.running() {
		t.Fatal("the sidecar exited")
	}
	b, _ := os.ReadFile(sc.log)
	reliability.Log(t, reliability.Row{
		Test:   "e2e TestServeRTPPortExhaustion",
		Thrown: fmt.Sprintf("sidecar serve with [rtp] ports for %d pairs: %d SIPp echo calls held, then %d more placed at once", pairs, pairs, extra),
		Did: fmt.Sprintf("answered the %d over capacity 503 in %.2f s (no retransmission, no timeout); the held calls kept echoing; their pairs served %d new echo calls once they ended (%d panics in the log)",
			extra, took.Seconds(), pairs, strings.Count(string(b), "panic")),
		Lost: "nothing: only the calls over capacity were refused",
	})
}
