package sipsvc_test

import (
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// tryingT1 is the caller's first retransmission (RFC 3261 T1): the 100 must beat it.
const tryingT1 = 500 * time.Millisecond

// A call answered at once (busy: 486 in about a millisecond) gets no 100 Trying: the final
// answer is the first response, and none follows it.
func TestTryingNotSentBeforeFastFinal(t *testing.T) {
	e := startEnv(t, nil)
	u := newRawUAC(t, "127.0.0.1", e.udp)
	for range 3 {
		inv := msg{method: "INVITE", ruri: "sip:busy@" + e.udp.String(), toUser: "busy", body: offerSDP,
			headers: []string{"X-Caller-Template: sub"}}
		u.send(u.text(&inv))
		m := u.next(minWait)
		r, ok := m.(*sip.Response)
		if !ok {
			t.Fatalf("first message %v, want the final answer", m)
		}
		if r.StatusCode != 486 {
			t.Fatalf("first response %d, want 486 (no 100 Trying before a fast final)", r.StatusCode)
		}
		u.send(u.ackNon2xx(inv, r))
	}
	// The sweep runs 200 ms past each INVITE: nothing may come out of it.
	u.silent(3 * tryingAfterForTest)
}

// tryingAfterForTest is sipsvc's tryingAfter (200 ms).
const tryingAfterForTest = 200 * time.Millisecond

// A dialplan that takes a second before its first response (Wait(1), then Busy) gets its 100
// Trying before the caller's first retransmission; a retransmitted INVITE gets the 100 again
// (the transaction's last response), and the call still ends with its 486.
func TestTryingSentForSlowDialplan(t *testing.T) {
	e := startEnv(t, nil)
	u := newRawUAC(t, "127.0.0.1", e.udp)
	inv := msg{method: "INVITE", ruri: "sip:late@" + e.udp.String(), toUser: "late", body: offerSDP,
		headers: []string{"X-Caller-Template: sub"}}
	text := u.text(&inv)
	sent := time.Now()
	u.send(text)
	m := u.next(2 * time.Second)
	took := time.Since(sent)
	r, ok := m.(*sip.Response)
	if !ok || r.StatusCode != 100 {
		t.Fatalf("first message %v, want 100 Trying", m)
	}
	if _, ok := r.To().Params.Get("tag"); ok {
		t.Errorf("100 Trying with a To tag: %s", r.To().Value())
	}
	t.Logf("100 Trying %v after the INVITE", took)
	if took > tryingT1 {
		t.Errorf("100 Trying %v after the INVITE, after the caller's T1 (%v): it retransmits", took, tryingT1)
	}
	u.send(text) // a retransmission: the last response again
	if m := u.next(2 * time.Second); m == nil {
		t.Fatal("retransmitted INVITE not answered")
	} else if r, ok := m.(*sip.Response); !ok || r.StatusCode != 100 {
		t.Fatalf("retransmitted INVITE answered %v, want 100 Trying again", m)
	}
	final := u.final(3 * time.Second)
	if final.StatusCode != 486 {
		t.Fatalf("final %d, want 486", final.StatusCode)
	}
	u.send(u.ackNon2xx(inv, final))
}

// The 200 of an answered call names the address the INVITE came to in its Contact, not the
// Request-URI's host: the wrapped transaction still gives its connection (a Contact of
// sip:sip.test sent Kamailio's ACK and BYE nowhere).
func TestTryingKeepsContactAddress(t *testing.T) {
	e := startEnv(t, nil)
	u := newRawUAC(t, "127.0.0.1", e.udp)
	inv, ok := answerCallTo(t, u, "sip:answer@sip.test")
	co := ok.Contact()
	if co == nil || co.Address.Host != e.udp.Addr().String() || co.Address.Port != int(e.udp.Port()) {
		t.Errorf("200 Contact %v, want sip:%s", co, e.udp)
	}
	tag, _ := ok.To().Params.Get("tag")
	hangUp(t, u, inv, tag, inv.cseq+1)
}
