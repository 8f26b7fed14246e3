package sipsvc_test

import (
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/sidecar-voip/sidecar/config"
)

// inDialog renders a request of the caller inside the dialog of inv (answered by res).
func inDialog(inv msg, toTag, method string, cseq int, body string) msg {
	r := inv
	r.method, r.toTag, r.cseq, r.body, r.branch, r.headers = method, toTag, cseq, body, "", nil
	return r
}

// ackOf renders the ACK of the 2xx to the in-dialog INVITE r, with body.
func ackOf(r msg, body string) msg {
	a := r
	a.method, a.branch, a.body = "ACK", "", body
	return a
}

// ringing calls extension ring and returns the INVITE and the To tag of its 180.
func ringing(t *testing.T, e *env, u *rawUAC, hdrs ...string) (msg, string) {
	t.Helper()
	inv := msg{method: "INVITE", ruri: "sip:ring@" + e.udp.String(), toUser: "ring", body: offerSDP,
		headers: append([]string{"X-Caller-Template: sub"}, hdrs...)}
	u.send(u.text(&inv))
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) {
		if res, ok := u.next(time.Until(deadline)).(*sip.Response); ok && res.StatusCode == 180 {
			return inv, tagOf(res)
		}
	}
	t.Fatal("no 180 Ringing")
	return inv, ""
}

// responses collects the final responses to method with CSeq cseq that arrive within d, answering
// any request from the service (a BYE) with 200; it returns them and the requests seen.
func responses(u *rawUAC, d time.Duration, method string, cseq uint32) (res []*sip.Response, reqs []*sip.Request) {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		switch m := u.next(time.Until(deadline)).(type) {
		case *sip.Response:
			if m.StatusCode >= 200 && m.CSeq().MethodName == sip.RequestMethod(method) && m.CSeq().SeqNo == cseq {
				res = append(res, m)
			}
		case *sip.Request:
			reqs = append(reqs, m)
			u.respond(m, 200, "OK")
		}
	}
	return res, reqs
}

// hangUp sends the caller's BYE (CSeq cseq) in the dialog of inv and waits for its 200, so
// the test ends without a call left for the drain to hang up.
func hangUp(t *testing.T, u *rawUAC, inv msg, toTag string, cseq int) {
	t.Helper()
	bye := inDialog(inv, toTag, "BYE", cseq, "")
	u.send(u.text(&bye))
	for {
		res := u.final(2 * time.Second)
		if res.CSeq().MethodName == sip.BYE {
			if res.StatusCode != 200 {
				t.Fatalf("BYE: got %d, want 200", res.StatusCode)
			}
			return
		}
	}
}

func hasBye(reqs []*sip.Request) bool {
	for _, r := range reqs {
		if r.Method == sip.BYE {
			return true
		}
	}
	return false
}

// The 200 to a re-INVITE is retransmitted (T1, 2*T1, ...) until its ACK (RFC 3261
// 13.3.1.4); without an ACK within ack-timeout the call ends with BYE.
func TestReInviteAnswerRetransmitted(t *testing.T) {
	t.Run("no ACK", func(t *testing.T) {
		e := startEnv(t, func(c *config.Config) { c.SIP.ACKTimeout = 2500 * time.Millisecond })
		u := newRawUAC(t, "127.0.0.1", e.udp)
		inv, ok := answerCall(t, e, u)
		r := inDialog(inv, tagOf(ok), "INVITE", 2, offerSDP)
		u.send(u.text(&r))
		// Copies at 0, 0.5 and 1.5 s; the ack-timeout (2.5 s) ends the call with BYE.
		res, reqs := responses(u, 3500*time.Millisecond, "INVITE", 2)
		if len(res) != 3 {
			t.Errorf("got %d copies of the 200 to the re-INVITE, want 3 (at 0, 0.5, 1.5 s)", len(res))
		}
		for _, r := range res {
			if r.StatusCode != 200 {
				t.Errorf("re-INVITE answered %d, want 200", r.StatusCode)
			}
		}
		if !hasBye(reqs) {
			t.Fatal("no BYE after the re-INVITE's 200 went unacknowledged")
		}
		waitFor(t, 2*time.Second, "call slot released", func() bool { return e.srv.Stats().CallsActive == 0 })
		if n := e.srv.Stats().NoACK; n != 1 {
			t.Errorf("Stats.NoACK = %d, want 1", n)
		}
		if !strings.Contains(e.log.String(), "200 OK to re-INVITE never acknowledged") {
			t.Errorf("no warning about the missing ACK:\n%s", e.log.String())
		}
	})
	t.Run("ACK stops it", func(t *testing.T) {
		e := startEnv(t, nil)
		u := newRawUAC(t, "127.0.0.1", e.udp)
		inv, ok := answerCall(t, e, u)
		r := inDialog(inv, tagOf(ok), "INVITE", 2, offerSDP)
		u.send(u.text(&r))
		if res := u.final(2 * time.Second); res.StatusCode != 200 {
			t.Fatalf("re-INVITE: got %d, want 200", res.StatusCode)
		}
		a := ackOf(r, "")
		u.send(u.text(&a))
		res, reqs := responses(u, 1500*time.Millisecond, "INVITE", 2)
		if len(res) != 0 || len(reqs) != 0 {
			t.Errorf("after the ACK: %d more 200s and %d requests, want none", len(res), len(reqs))
		}
		if n := e.srv.Stats().NoACK; n != 0 {
			t.Errorf("Stats.NoACK = %d, want 0", n)
		}
		hangUp(t, u, inv, tagOf(ok), 3)
	})
}

// A BYE in an early dialog: 200 to the BYE, 487 to the INVITE (RFC 3261 15.1.2).
func TestEarlyByeTerminatesInvite(t *testing.T) {
	e := startEnv(t, nil)
	u := newRawUAC(t, "127.0.0.1", e.udp)
	inv, tag := ringing(t, e, u)
	bye := inDialog(inv, tag, "BYE", 2, "")
	u.send(u.text(&bye))
	got := map[string]int{}
	for len(got) < 2 {
		res := u.final(2 * time.Second)
		got[string(res.CSeq().MethodName)] = res.StatusCode
		if res.CSeq().MethodName == sip.INVITE {
			u.send(u.ackNon2xx(inv, res))
		}
	}
	if got["BYE"] != 200 || got["INVITE"] != 487 {
		t.Errorf("answers %v, want BYE 200 and INVITE 487", got)
	}
	waitFor(t, 2*time.Second, "call slot released", func() bool { return e.srv.Stats().CallsActive == 0 })
	if n := e.srv.Stats().Rejected[487]; n != 1 {
		t.Errorf("Stats.Rejected[487] = %d, want 1", n)
	}
	if !strings.Contains(e.log.String(), "status=487") || !strings.Contains(e.log.String(), "ended_by=caller") {
		t.Errorf("call end not logged as 487 ended by the caller:\n%s", e.log.String())
	}
}

// A BYE whose CSeq is below the dialog's gets 500 and changes nothing: the call goes on,
// and when it ends the service still sends its BYE.
func TestStaleByeRefused(t *testing.T) {
	e := startEnv(t, nil)
	u := newRawUAC(t, "127.0.0.1", e.udp)
	inv := msg{method: "INVITE", ruri: "sip:answer@" + e.udp.String(), toUser: "answer", body: offerSDP, cseq: 10,
		headers: []string{"X-Caller-Template: sub"}}
	u.send(u.text(&inv))
	ok := u.final(2 * time.Second)
	u.send(u.ackFor(inv, ok))
	waitFor(t, 2*time.Second, "answered", func() bool { return e.srv.Stats().Answered == 1 })
	bye := inDialog(inv, tagOf(ok), "BYE", 3, "")
	u.send(u.text(&bye))
	if res := u.final(2 * time.Second); res.StatusCode != 500 {
		t.Fatalf("BYE CSeq 3 after INVITE CSeq 10: got %d, want 500", res.StatusCode)
	}
	if n := e.srv.Stats().CallsActive; n != 1 {
		t.Fatalf("CallsActive = %d after a refused BYE, want 1", n)
	}
	e.media.Session(inv.callIDOr(t, ok)).End()
	if req := u.request(3 * time.Second); req.Method != sip.BYE {
		t.Fatalf("after media end: got %s, want BYE", req.Method)
	} else {
		u.respond(req, 200, "OK")
	}
	waitFor(t, 2*time.Second, "call slot released", func() bool { return e.srv.Stats().CallsActive == 0 })
	if !strings.Contains(e.log.String(), "ended_by=sidecar") {
		t.Errorf("call end not logged as ended by the sidecar:\n%s", e.log.String())
	}
}

// checkRetryAfter fails unless res carries Retry-After with 0-10 seconds.
func checkRetryAfter(t *testing.T, res *sip.Response) {
	t.Helper()
	h := res.GetHeader("Retry-After")
	if h == nil {
		t.Fatalf("%d without Retry-After", res.StatusCode)
	}
	if n, err := strconv.Atoi(h.Value()); err != nil || n < 0 || n > 10 {
		t.Errorf("Retry-After %q, want 0-10", h.Value())
	}
}

// re-INVITEs that must be refused (RFC 3261 12.2.2 and 14.2): in an early dialog (500 +
// Retry-After), before the previous 2xx was ACKed (500 + Retry-After), with a lower CSeq
// (500). Never 491: the service sends no INVITE of its own.
func TestReInviteRefused(t *testing.T) {
	t.Run("early dialog", func(t *testing.T) {
		e := startEnv(t, nil)
		u := newRawUAC(t, "127.0.0.1", e.udp)
		inv, tag := ringing(t, e, u)
		r := inDialog(inv, tag, "INVITE", 2, offerSDP)
		u.send(u.text(&r))
		res := u.final(2 * time.Second)
		if res.StatusCode != 500 || len(res.Body()) != 0 {
			t.Fatalf("re-INVITE in an early dialog: got %d with %d bytes of body, want 500 without", res.StatusCode, len(res.Body()))
		}
		checkRetryAfter(t, res)
		u.send(u.ackNon2xx(r, res))
		cn := inv
		cn.method, cn.body, cn.headers = "CANCEL", "", nil
		u.send(u.text(&cn))
		waitFor(t, 2*time.Second, "call slot released", func() bool { return e.srv.Stats().CallsActive == 0 })
	})
	t.Run("2xx not acknowledged", func(t *testing.T) {
		e := startEnv(t, func(c *config.Config) { c.SIP.ACKTimeout = 5 * time.Second })
		u := newRawUAC(t, "127.0.0.1", e.udp)
		inv := msg{method: "INVITE", ruri: "sip:answer@" + e.udp.String(), toUser: "answer", body: offerSDP,
			headers: []string{"X-Caller-Template: sub"}}
		u.send(u.text(&inv))
		ok := u.final(2 * time.Second)
		r := inDialog(inv, tagOf(ok), "INVITE", 2, offerSDP)
		u.send(u.text(&r))
		res, _ := responses(u, time.Second, "INVITE", 2)
		if len(res) == 0 || res[0].StatusCode != 500 {
			t.Fatalf("re-INVITE before the ACK: got %v, want 500", res)
		}
		checkRetryAfter(t, res[0])
		u.send(u.ackNon2xx(r, res[0]))
		// The late ACK of the initial 200 still confirms the call.
		u.send(u.ackFor(inv, ok))
		waitFor(t, 2*time.Second, "answered", func() bool { return e.srv.Stats().Answered == 1 })
		r3 := inDialog(inv, tagOf(ok), "INVITE", 3, offerSDP)
		u.send(u.text(&r3))
		if res := u.final(2 * time.Second); res.StatusCode != 200 {
			t.Fatalf("re-INVITE after the ACK: got %d, want 200", res.StatusCode)
		}
		a := ackOf(r3, "")
		u.send(u.text(&a))
		hangUp(t, u, inv, tagOf(ok), 4)
	})
	t.Run("lower CSeq", func(t *testing.T) {
		e := startEnv(t, nil)
		u := newRawUAC(t, "127.0.0.1", e.udp)
		inv, ok := answerCall(t, e, u)
		r := inDialog(inv, tagOf(ok), "INVITE", 5, offerSDP)
		u.send(u.text(&r))
		if res := u.final(2 * time.Second); res.StatusCode != 200 {
			t.Fatalf("re-INVITE CSeq 5: got %d, want 200", res.StatusCode)
		}
		a := ackOf(r, "")
		u.send(u.text(&a))
		r2 := inDialog(inv, tagOf(ok), "INVITE", 3, offerSDP)
		u.send(u.text(&r2))
		res := u.final(2 * time.Second)
		if res.StatusCode != 500 {
			t.Fatalf("re-INVITE CSeq 3 after 5: got %d, want 500", res.StatusCode)
		}
		u.send(u.ackNon2xx(r2, res))
		if n := e.srv.Stats().CallsActive; n != 1 {
			t.Errorf("CallsActive = %d, want the call to go on", n)
		}
		hangUp(t, u, inv, tagOf(ok), 6)
	})
}

// An ACK closely followed by a re-INVITE: sipgo may hand the re-INVITE to its handler first;
// the ACK still confirms the call and the re-INVITE gets its 200. Every other call puts the
// re-INVITE first on the wire. (TestReInviteRefused/2xx_not_acknowledged forces the order:
// an ACK that arrives after a re-INVITE was handled still confirms the call.)
func TestAckThenReInvite(t *testing.T) {
	e := startEnv(t, nil)
	u := newRawUAC(t, "127.0.0.1", e.udp)
	const calls = 20
	type dlg struct {
		inv msg
		tag string
	}
	var dialogs []dlg
	for i := 0; i < calls; i++ {
		inv := msg{method: "INVITE", ruri: "sip:answer@" + e.udp.String(), toUser: "answer", body: offerSDP,
			headers: []string{"X-Caller-Template: sub"}}
		u.send(u.text(&inv))
		ok := u.final(2 * time.Second)
		r := inDialog(inv, tagOf(ok), "INVITE", 2, offerSDP)
		if i%2 == 0 { // the ACK and the re-INVITE back to back
			u.send(u.ackFor(inv, ok))
			u.send(u.text(&r))
		} else {
			u.send(u.text(&r))
			u.send(u.ackFor(inv, ok))
		}
		res := u.final(2 * time.Second)
		if res.CSeq().SeqNo != 2 || res.StatusCode != 200 {
			t.Fatalf("call %d: got %d for CSeq %d, want 200 to the re-INVITE", i, res.StatusCode, res.CSeq().SeqNo)
		}
		a := ackOf(r, "")
		u.send(u.text(&a))
		dialogs = append(dialogs, dlg{inv, tagOf(ok)})
	}
	waitFor(t, 2*time.Second, "every call answered", func() bool { return e.srv.Stats().Answered == calls })
	time.Sleep(1200 * time.Millisecond) // past the 1 s ack-timeout of the tests
	if n := e.srv.Stats().NoACK; n != 0 {
		t.Errorf("Stats.NoACK = %d, want 0: an ACK was lost", n)
	}
	if n := e.srv.Stats().CallsActive; n != calls {
		t.Errorf("CallsActive = %d, want %d", n, calls)
	}
	for _, d := range dialogs {
		hangUp(t, u, d.inv, d.tag, 3)
	}
}

// A re-INVITE without SDP gets a fresh offer; the answer in the ACK is applied. An ACK
// without the answer ends the call with BYE (RFC 3261 13.2.1).
func TestReInviteWithoutSDP(t *testing.T) {
	answer := strings.Replace(offerSDP, "c=IN IP4 127.0.0.1", "c=IN IP4 127.0.0.2", 1)
	t.Run("answer in ACK", func(t *testing.T) {
		e := startEnv(t, nil)
		u := newRawUAC(t, "127.0.0.1", e.udp)
		inv, ok := answerCall(t, e, u)
		r := inDialog(inv, tagOf(ok), "INVITE", 2, "")
		u.send(u.text(&r))
		res := u.final(2 * time.Second)
		if res.StatusCode != 200 || !strings.Contains(string(res.Body()), "m=audio") {
			t.Fatalf("got %d with body %q, want 200 with an offer", res.StatusCode, res.Body())
		}
		a := ackOf(r, answer)
		u.send(u.text(&a))
		sess := e.media.Session(inv.callIDOr(t, ok))
		waitFor(t, 2*time.Second, "ACK answer applied", func() bool { return len(sess.Remotes()) == 2 })
		if got := sess.Remotes(); len(got[0]) != 0 || string(got[1]) != answer {
			t.Errorf("SetRemote got %q, want nil (make an offer) then the ACK's answer", got)
		}
		u.silent(300 * time.Millisecond)
		hangUp(t, u, inv, tagOf(ok), 3)
	})
	t.Run("ACK without answer", func(t *testing.T) {
		e := startEnv(t, nil)
		u := newRawUAC(t, "127.0.0.1", e.udp)
		inv, ok := answerCall(t, e, u)
		r := inDialog(inv, tagOf(ok), "INVITE", 2, "")
		u.send(u.text(&r))
		if res := u.final(2 * time.Second); res.StatusCode != 200 {
			t.Fatalf("got %d, want 200", res.StatusCode)
		}
		a := ackOf(r, "")
		u.send(u.text(&a))
		bye := u.request(2 * time.Second)
		if bye.Method != sip.BYE {
			t.Fatalf("got %s, want BYE", bye.Method)
		}
		u.respond(bye, 200, "OK")
		waitFor(t, 2*time.Second, "call slot released", func() bool { return e.srv.Stats().CallsActive == 0 })
		if !strings.Contains(e.log.String(), "no SDP answer in the ACK") {
			t.Errorf("the log does not say why the call ended:\n%s", e.log.String())
		}
	})
}

// A late offer whose ACK carries no SDP ends the call with BYE and says why.
func TestLateOfferAckWithoutSDP(t *testing.T) {
	e := startEnv(t, nil)
	u := newRawUAC(t, "127.0.0.1", e.udp)
	inv := msg{method: "INVITE", ruri: "sip:answer@" + e.udp.String(), toUser: "answer",
		headers: []string{"X-Caller-Template: sub"}}
	u.send(u.text(&inv))
	ok := u.final(2 * time.Second)
	if ok.StatusCode != 200 || len(ok.Body()) == 0 {
		t.Fatalf("got %d with body %q, want 200 with an offer", ok.StatusCode, ok.Body())
	}
	u.send(u.ackFor(inv, ok))
	bye := u.request(2 * time.Second)
	if bye.Method != sip.BYE {
		t.Fatalf("got %s, want BYE", bye.Method)
	}
	u.respond(bye, 200, "OK")
	waitFor(t, 2*time.Second, "call slot released", func() bool { return e.srv.Stats().CallsActive == 0 })
	if !strings.Contains(e.log.String(), "no SDP answer in the ACK") {
		t.Errorf("the log does not say why the call ended:\n%s", e.log.String())
	}
}

// Over TCP: a re-INVITE without SDP gets an offer, the ACK's answer is applied, and the
// caller's BYE ends the call.
func TestReInviteOverTCP(t *testing.T) {
	e := startEnv(t, nil)
	srv := sipsvctestAddr(t, e, "tcp")
	conn, err := net.Dial("tcp", srv.String())
	if err != nil {
		t.Fatal(err)
	}
	u := newStreamUAC(t, conn, srv, "TCP")
	inv := msg{method: "INVITE", ruri: "sip:answer@" + srv.String() + ";transport=tcp", toUser: "answer", body: offerSDP,
		contact: "sip:alice@" + u.local.String() + ";transport=tcp", headers: []string{"X-Caller-Template: sub"}}
	u.send(u.text(&inv))
	ok := u.final(2 * time.Second)
	if ok.StatusCode != 200 {
		t.Fatalf("INVITE: got %d, want 200", ok.StatusCode)
	}
	u.send(u.ackFor(inv, ok))
	waitFor(t, 2*time.Second, "answered", func() bool { return e.srv.Stats().Answered == 1 })
	r := inDialog(inv, tagOf(ok), "INVITE", 2, "")
	u.send(u.text(&r))
	res := u.final(2 * time.Second)
	if res.StatusCode != 200 || len(res.Body()) == 0 {
		t.Fatalf("re-INVITE: got %d with body %q, want 200 with an offer", res.StatusCode, res.Body())
	}
	a := ackOf(r, offerSDP)
	u.send(u.text(&a))
	sess := e.media.Session(inv.callID)
	waitFor(t, 2*time.Second, "ACK answer applied", func() bool { return len(sess.Remotes()) == 2 })
	bye := inDialog(inv, tagOf(ok), "BYE", 3, "")
	u.send(u.text(&bye))
	if res := u.final(2 * time.Second); res.StatusCode != 200 || res.CSeq().MethodName != sip.BYE {
		t.Fatalf("BYE: got %d for %s, want 200 for BYE", res.StatusCode, res.CSeq().MethodName)
	}
	waitFor(t, 2*time.Second, "call slot released", func() bool { return e.srv.Stats().CallsActive == 0 })
}
