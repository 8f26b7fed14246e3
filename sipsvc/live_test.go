package sipsvc_test

import (
	"testing"
	"time"

	"github.com/sidecar-voip/sidecar/config"
)

// applyCopy applies a copy of e's settings changed by mutate to the running service.
func applyCopy(t *testing.T, e *env, mutate func(*config.Config)) {
	t.Helper()
	next := *e.cfg
	mutate(&next)
	if err := e.srv.Apply(&next); err != nil {
		t.Fatal(err)
	}
}

// A reload's trust list applies to the sockets already bound and to the handlers: a source
// refused before is served after, and refused again (now silently) once removed.
func TestApplyTrustedLive(t *testing.T) {
	e := startEnv(t, func(c *config.Config) { c.SIP.Trusted = config.MustParseTrustList("127.0.0.1/32") })
	out := newRawUAC(t, "127.0.0.2", e.udp)
	options := msg{method: "OPTIONS", ruri: "sip:" + e.udp.String()}
	out.send(out.text(&options))
	if res := out.final(2 * time.Second); res.StatusCode != 403 {
		t.Fatalf("before: got %d, want 403", res.StatusCode)
	}

	applyCopy(t, e, func(c *config.Config) { c.SIP.Trusted = config.MustParseTrustList("127.0.0.0/8") })
	out.send(out.text(&msg{method: "OPTIONS", ruri: "sip:" + e.udp.String()}))
	if res := out.final(2 * time.Second); res.StatusCode != 200 {
		t.Fatalf("after trusting 127.0.0.0/8: got %d, want 200", res.StatusCode)
	}

	applyCopy(t, e, func(c *config.Config) {
		c.SIP.Trusted = config.MustParseTrustList("127.0.0.1/32")
		c.SIP.Untrusted = "drop"
	})
	out.send(out.text(&msg{method: "OPTIONS", ruri: "sip:" + e.udp.String()}))
	out.silent(500 * time.Millisecond)
	if st := e.srv.Stats(); st.Untrusted != 2 {
		t.Errorf("untrusted counted %d, want 2", st.Untrusted)
	}
}

// A reload's no-match code answers the next unmatched call; a raised max-calls admits what
// the old limit refused, without touching the call in progress.
func TestApplyLimitsLive(t *testing.T) {
	e := startEnv(t, func(c *config.Config) { c.SIP.MaxCalls = 1 })
	applyCopy(t, e, func(c *config.Config) { c.SIP.NoMatchCode = 404; c.SIP.MaxCalls = 1 })
	if got := whoAnswer(t, e, "127.0.0.1", msg{}); got != "404 Not Found" {
		t.Errorf("no-match after apply: got %q", got)
	}

	waitFor(t, 2*time.Second, "the unmatched call's slot free", func() bool { return e.srv.Stats().CallsActive == 0 })
	u := newRawUAC(t, "127.0.0.1", e.udp)
	answerCall(t, e, u)
	other := newRawUAC(t, "127.0.0.1", e.udp)
	other.send(other.text(&msg{method: "OPTIONS", ruri: "sip:" + e.udp.String()}))
	if res := other.final(time.Second); res.StatusCode != 503 {
		t.Fatalf("OPTIONS at max-calls 1: got %d, want 503", res.StatusCode)
	}
	applyCopy(t, e, func(c *config.Config) { c.SIP.MaxCalls = 2 })
	other.send(other.text(&msg{method: "OPTIONS", ruri: "sip:" + e.udp.String()}))
	if res := other.final(time.Second); res.StatusCode != 200 {
		t.Errorf("OPTIONS after raising max-calls: got %d, want 200", res.StatusCode)
	}
	if st := e.srv.Stats(); st.CallsActive != 1 {
		t.Errorf("active calls %d; the call in progress was touched", st.CallsActive)
	}
	if err := e.srv.Apply(&config.Config{}); err == nil {
		t.Error("Apply accepted max-calls 0")
	}
}
