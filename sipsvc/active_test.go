package sipsvc_test

import (
	"testing"
	"time"

	"github.com/sidecar-voip/sidecar/sipsvc"
)

// ActiveCalls lists the live calls of the dialog registry with their state, templates and
// context as the calls move: a ringing call (early), an answered and acknowledged one
// (confirmed), none once both have ended.
func TestActiveCalls(t *testing.T) {
	e := startEnv(t, nil)
	if got := e.srv.ActiveCalls(); len(got) != 0 {
		t.Fatalf("ActiveCalls before any call: %+v", got)
	}
	ringer := newRawUAC(t, "127.0.0.1", e.udp)
	ring, ringTag := ringing(t, e, ringer)
	answerer := newRawUAC(t, "127.0.0.1", e.udp)
	inv, ok := answerCall(t, e, answerer)

	var calls []sipsvc.CallInfo
	waitFor(t, 2*time.Second, "two calls, one confirmed", func() bool {
		calls = e.srv.ActiveCalls()
		return len(calls) == 2 && calls[1].State == "confirmed"
	})
	want := []struct{ callID, state string }{{ring.callID, "early"}, {inv.callID, "confirmed"}}
	for i, c := range calls {
		if c.CallID != want[i].callID || c.State != want[i].state {
			t.Errorf("call %d: %q %s, want %q %s", i, c.CallID, c.State, want[i].callID, want[i].state)
		}
		if c.CallerTemplate != "sub" || c.CalleeTemplate != "" || c.Context != "internal" {
			t.Errorf("call %d: templates %q/%q context %q, want sub/\"\" internal", i, c.CallerTemplate, c.CalleeTemplate, c.Context)
		}
		if c.Start.IsZero() || time.Since(c.Start) > time.Minute || !c.Source.Addr().IsLoopback() {
			t.Errorf("call %d: start %v source %v", i, c.Start, c.Source)
		}
	}
	if !calls[0].Start.Before(calls[1].Start) && !calls[0].Start.Equal(calls[1].Start) {
		t.Errorf("not oldest first: %v then %v", calls[0].Start, calls[1].Start)
	}

	hangUp(t, answerer, inv, tagOf(ok), 2)
	hangUp(t, ringer, ring, ringTag, 2)
	waitFor(t, 2*time.Second, "no calls", func() bool { return len(e.srv.ActiveCalls()) == 0 })
}
