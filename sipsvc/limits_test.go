package sipsvc_test

import (
	"testing"
	"time"

	"github.com/sidecar-voip/sidecar/config"
)

// At max-calls a new INVITE gets 503 with Retry-After and OPTIONS gets 503 (the dispatcher
// stops sending); once a call ends both are served again.
func TestMaxCalls(t *testing.T) {
	e := startEnv(t, func(c *config.Config) { c.SIP.MaxCalls = 1 })
	u := newRawUAC(t, "127.0.0.1", e.udp)
	inv, ok := answerCall(t, e, u)

	other := newRawUAC(t, "127.0.0.1", e.udp)
	busy := msg{method: "INVITE", ruri: "sip:busy@" + e.udp.String(), toUser: "busy", body: offerSDP,
		headers: []string{"X-Caller-Template: sub"}}
	other.send(other.text(&busy))
	res := other.final(time.Second)
	if res.StatusCode != 503 {
		t.Fatalf("INVITE past max-calls: got %d, want 503", res.StatusCode)
	}
	if ra := res.GetHeader("Retry-After"); ra == nil || ra.Value() == "" {
		t.Error("503 without Retry-After")
	}
	other.send(other.ackNon2xx(busy, res))
	other.send(other.text(&msg{method: "OPTIONS", ruri: "sip:" + e.udp.String()}))
	if res := other.final(time.Second); res.StatusCode != 503 {
		t.Errorf("OPTIONS at max-calls: got %d, want 503", res.StatusCode)
	}
	if st := e.srv.Stats(); st.CallsActive != 1 || st.Rejected[503] != 2 {
		t.Errorf("stats: active %d, rejected %v; want 1 active and 503:2", st.CallsActive, st.Rejected)
	}

	bye := inv
	bye.method, bye.body, bye.branch, bye.cseq, bye.toTag = "BYE", "", "", 2, tagOf(ok)
	u.send(u.text(&bye))
	if res := u.final(2 * time.Second); res.StatusCode != 200 {
		t.Fatalf("BYE: got %d", res.StatusCode)
	}
	waitFor(t, 2*time.Second, "slot free", func() bool { return e.srv.Stats().CallsActive == 0 })
	other.send(other.text(&msg{method: "OPTIONS", ruri: "sip:" + e.udp.String()}))
	if res := other.final(time.Second); res.StatusCode != 200 {
		t.Errorf("OPTIONS after the call: got %d, want 200", res.StatusCode)
	}
	busy2 := busy
	busy2.branch, busy2.callID, busy2.fromTag = "", "", ""
	other.send(other.text(&busy2))
	res = other.final(time.Second)
	if res.StatusCode != 486 {
		t.Errorf("INVITE after the call: got %d, want 486", res.StatusCode)
	}
	other.send(other.ackNon2xx(busy2, res))
}
