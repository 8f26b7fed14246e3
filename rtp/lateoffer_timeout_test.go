package rtp_test

import (
	"testing"
	"time"

	"github.com/sidecar-voip/sidecar/rtp"
)

// TestLateOfferRingingNoTimeout: a late-offer session has no route while the call rings
// (183, then 200 awaiting the ACK): no RTP is due, so it outlives the inactivity timeout.
// Once the ACK's answer installs a route, the timeout applies as usual.
func TestLateOfferRingingNoTimeout(t *testing.T) {
	const timeout = 150 * time.Millisecond
	e := newEngine(t, 1, func(c *rtp.Config) { c.Timeout = timeout })
	p := newPeer(t)
	s := open(t, e, nil, "pcmu")
	select {
	case <-s.Done():
		t.Fatal("a ringing late-offer session timed out")
	case <-time.After(5 * timeout):
	}
	if _, err := s.SetRemote(p.offer("0")); err != nil {
		t.Fatalf("answer: %v", err)
	}
	select {
	case <-s.Done():
	case <-time.After(3 * time.Second):
		t.Fatal("no timeout without RTP once the answer gave a route")
	}
}

// TestLateOfferFailedAnswerTimesOut: when the answer to our late offer fails (an ACK without
// SDP, a malformed SDP, no codec of ours), the session has no media and must not hold its
// ports: the inactivity clock starts then, and ends it after the timeout (not at once,
// however long it rang before).
func TestLateOfferFailedAnswerTimesOut(t *testing.T) {
	const timeout = 300 * time.Millisecond
	for _, tc := range []struct {
		name string
		body func(p *peer) []byte
	}{
		{"no SDP", func(*peer) []byte { return nil }},
		{"malformed", func(*peer) []byte { return []byte("v=0\r\nm=audio x\r\n") }},
		{"no common codec", func(p *peer) []byte { return p.offer("96", "a=rtpmap:96 foo/8000") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEngine(t, 1, func(c *rtp.Config) { c.Timeout = timeout })
			p := newPeer(t)
			s := open(t, e, nil, "pcmu")
			time.Sleep(2 * timeout) // rings longer than the timeout
			_, err := s.SetRemote(tc.body(p))
			wantStatus(t, err, 488)
			failed := time.Now()
			// One wait, judged by when it ended: ending at once (or before the timeout) fails.
			// (A separate "not within timeout/3" window failed when a loaded machine stalled
			// the test past the whole timeout after SetRemote.)
			select {
			case <-s.Done():
				if d := time.Since(failed); d < timeout {
					t.Errorf("ended %s after the failed answer, want at least %s: the clock must start when the answer failed", d, timeout)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("a session whose answer failed never timed out")
			}
		})
	}
}
