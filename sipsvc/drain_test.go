package sipsvc_test

import (
	"context"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/sidecar-voip/sidecar/config"
)

// answerCall places a call to the "answer" extension and ACKs the 200; it returns the
// INVITE as sent and the 200.
func answerCall(t *testing.T, e *env, u *rawUAC) (msg, *sip.Response) {
	t.Helper()
	return answerCallTo(t, u, "sip:answer@"+e.udp.String())
}

// answerCallTo is answerCall with the INVITE's Request-URI ruri (its user "answer").
func answerCallTo(t *testing.T, u *rawUAC, ruri string) (msg, *sip.Response) {
	t.Helper()
	inv := msg{method: "INVITE", ruri: ruri, toUser: "answer", body: offerSDP,
		headers: []string{"X-Caller-Template: sub"}}
	u.send(u.text(&inv))
	ok := u.final(2 * time.Second)
	if ok.StatusCode != 200 {
		t.Fatalf("answer: got %d, want 200", ok.StatusCode)
	}
	u.send(u.ackFor(inv, ok))
	return inv, ok
}

// Drain: new INVITEs and OPTIONS get 503 at once; a live call gets BYE after the grace;
// then Drain returns.
func TestDrainHangsUpAfterGrace(t *testing.T) {
	e := startEnv(t, func(c *config.Config) { c.SIP.DrainGrace = 700 * time.Millisecond })
	u := newRawUAC(t, "127.0.0.1", e.udp)
	answerCall(t, e, u)
	waitFor(t, 2*time.Second, "answered", func() bool { return e.srv.Stats().Answered == 1 })

	start := time.Now()
	drained := make(chan error, 1)
	go func() { drained <- e.srv.Drain(context.Background()) }()
	waitFor(t, time.Second, "draining", e.srv.Draining)

	other := newRawUAC(t, "127.0.0.1", e.udp)
	other.send(other.text(&msg{method: "OPTIONS", ruri: "sip:" + e.udp.String()}))
	if res := other.final(time.Second); res.StatusCode != 503 {
		t.Errorf("OPTIONS while draining: got %d, want 503", res.StatusCode)
	}
	inv := msg{method: "INVITE", ruri: "sip:busy@" + e.udp.String(), toUser: "busy", body: offerSDP,
		headers: []string{"X-Caller-Template: sub"}}
	other.send(other.text(&inv))
	res := other.final(time.Second)
	if res.StatusCode != 503 || res.GetHeader("Retry-After") == nil {
		t.Errorf("INVITE while draining: got %d (Retry-After %v), want 503 with Retry-After", res.StatusCode, res.GetHeader("Retry-After"))
	}
	other.send(other.ackNon2xx(inv, res))

	bye := u.request(3 * time.Second)
	if bye.Method != sip.BYE {
		t.Fatalf("got %s, want BYE", bye.Method)
	}
	if d := time.Since(start); d < e.cfg.SIP.DrainGrace {
		t.Errorf("BYE after %v, before the grace %v", d, e.cfg.SIP.DrainGrace)
	}
	u.respond(bye, 200, "OK")
	select {
	case err := <-drained:
		if err != nil {
			t.Errorf("Drain: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Drain did not return")
	}
	if n := e.srv.Stats().CallsActive; n != 0 {
		t.Errorf("%d calls left after drain", n)
	}
}

// A call that ends during the grace ends drain early, without a BYE from the service.
func TestDrainWaitsForCalls(t *testing.T) {
	e := startEnv(t, func(c *config.Config) { c.SIP.DrainGrace = 10 * time.Second })
	u := newRawUAC(t, "127.0.0.1", e.udp)
	inv, ok := answerCall(t, e, u)
	waitFor(t, 2*time.Second, "answered", func() bool { return e.srv.Stats().Answered == 1 })
	drained := make(chan error, 1)
	go func() { drained <- e.srv.Drain(context.Background()) }()
	waitFor(t, time.Second, "draining", e.srv.Draining)

	bye := inv
	bye.method, bye.body, bye.branch, bye.cseq, bye.toTag = "BYE", "", "", 2, tagOf(ok)
	u.send(u.text(&bye))
	if res := u.final(2 * time.Second); res.StatusCode != 200 {
		t.Fatalf("BYE: got %d", res.StatusCode)
	}
	select {
	case err := <-drained:
		if err != nil {
			t.Errorf("Drain: %v", err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("Drain still waiting after the last call ended")
	}
}

// A call still ringing when the grace ends is answered 503.
func TestDrainRejectsRingingCall(t *testing.T) {
	e := startEnv(t, func(c *config.Config) { c.SIP.DrainGrace = 300 * time.Millisecond })
	u := newRawUAC(t, "127.0.0.1", e.udp)
	inv := msg{method: "INVITE", ruri: "sip:ring@" + e.udp.String(), toUser: "ring", body: offerSDP,
		headers: []string{"X-Caller-Template: sub"}}
	u.send(u.text(&inv))
	waitFor(t, 2*time.Second, "call in progress", func() bool { return e.srv.Stats().CallsActive == 1 })
	drained := make(chan error, 1)
	go func() { drained <- e.srv.Drain(context.Background()) }()
	res := u.final(3 * time.Second)
	if res.StatusCode != 503 {
		t.Fatalf("ringing call at drain: got %d, want 503", res.StatusCode)
	}
	u.send(u.ackNon2xx(inv, res))
	select {
	case err := <-drained:
		if err != nil {
			t.Errorf("Drain: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Drain did not return")
	}
}
