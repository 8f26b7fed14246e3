package sipsvc_test

import (
	"strings"
	"testing"
	"time"

	"github.com/sidecar-voip/sidecar/sipsvc"
)

// The maximum call duration guard, wired into every call: an answered call still up after
// it gets BYE; an unanswered one gets 500.
func TestMaxCallDuration(t *testing.T) {
	const limit = 700 * time.Millisecond
	t.Run("answered", func(t *testing.T) {
		e := startEnv(t, nil)
		sipsvc.SetMaxCallDuration(e.srv, limit)
		u := newRawUAC(t, "127.0.0.1", e.udp)
		start := time.Now()
		answerCall(t, e, u)
		_, reqs := responses(u, 2*limit, "INVITE", 1)
		if !hasBye(reqs) {
			t.Fatalf("no BYE within %v of a call limited to %v", 2*limit, limit)
		}
		if !strings.Contains(e.log.String(), "maximum duration") {
			t.Errorf("the log does not say the call reached its maximum duration")
		}
		waitFor(t, 2*time.Second, "call ended", func() bool { return e.srv.Stats().CallsActive == 0 })
		if waited := time.Since(start); waited < limit {
			t.Errorf("call ended after %v, before the limit %v", waited, limit)
		}
	})
	t.Run("unanswered", func(t *testing.T) {
		e := startEnv(t, nil)
		sipsvc.SetMaxCallDuration(e.srv, limit)
		u := newRawUAC(t, "127.0.0.1", e.udp)
		inv := msg{method: "INVITE", ruri: "sip:ring@" + e.udp.String(), toUser: "ring", body: offerSDP,
			headers: []string{"X-Caller-Template: sub"}}
		start := time.Now()
		u.send(u.text(&inv))
		res := u.final(2 * limit)
		if res.StatusCode != 500 {
			t.Fatalf("got %d, want 500 after the maximum duration", res.StatusCode)
		}
		if waited := time.Since(start); waited < limit {
			t.Errorf("500 after %v, before the limit %v", waited, limit)
		}
	})
}
