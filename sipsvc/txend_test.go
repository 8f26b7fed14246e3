package sipsvc_test

import (
	"strings"
	"testing"
	"time"
)

// The initial INVITE's transaction ends at the ACK of its 200: a retransmission of that
// INVITE afterwards is no longer absorbed by sipgo's transaction (which drops INVITE
// repeats in its Accepted state without passing them up) but reaches the service, which
// must drop it as a retransmission rather than start a second call. The counter
// InviteRetransmissions only moves when the repeat got past sipgo, so it is the exact
// observation that the transaction is gone from the transaction layer.
func TestInviteRetransmissionAfterAck(t *testing.T) {
	e := startEnv(t, nil)
	u := newRawUAC(t, "127.0.0.1", e.udp)
	inv := msg{method: "INVITE", ruri: "sip:answer@" + e.udp.String(), toUser: "answer", body: offerSDP,
		headers: []string{"X-Caller-Template: sub"}}
	invText := u.text(&inv)
	u.send(invText)
	ok := u.final(2 * time.Second)
	if ok.StatusCode != 200 {
		t.Fatalf("got %d, want 200", ok.StatusCode)
	}
	u.send(u.ackFor(inv, ok))
	waitFor(t, 2*time.Second, "answered", func() bool { return e.srv.Stats().Answered == 1 })
	for u.next(300*time.Millisecond) != nil { // a 200 retransmission crossing the ACK
	}

	// The same INVITE again (same branch), then one on a new branch (a merged request,
	// RFC 3261 8.2.2.2): neither gets an answer, neither starts a call.
	u.send(invText)
	again := inv
	again.branch = ""
	u.send(u.text(&again))
	u.silent(time.Second)
	waitFor(t, 2*time.Second, "repeats counted", func() bool { return e.srv.Stats().InviteRetransmissions == 2 })
	if st := e.srv.Stats(); st.CallsTotal != 1 || st.CallsActive != 1 {
		t.Errorf("CallsTotal %d, CallsActive %d after the repeats; want 1 and 1", st.CallsTotal, st.CallsActive)
	}

	// A new INVITE from the same caller (another CSeq) is not a repeat: it is a call.
	next := inv
	next.branch, next.cseq = "", inv.cseq+1
	u.send(u.text(&next))
	res := u.final(2 * time.Second)
	if res.StatusCode != 200 {
		t.Fatalf("INVITE with a new CSeq: got %d, want 200 (a new call)", res.StatusCode)
	}
	if got := e.srv.Stats().CallsTotal; got != 2 {
		t.Errorf("CallsTotal %d, want 2", got)
	}
	u.send(u.ackFor(next, res))
	hangUp(t, u, inv, tagOf(ok), 10)
	hangUp(t, u, next, tagOf(res), 10)
}

// A re-INVITE's transaction ends at the ACK of its 200 too: its retransmission is dropped,
// the media session does not see the offer twice.
func TestReInviteRetransmissionAfterAck(t *testing.T) {
	e := startEnv(t, nil)
	u := newRawUAC(t, "127.0.0.1", e.udp)
	inv := msg{method: "INVITE", ruri: "sip:answer@" + e.udp.String(), toUser: "answer", body: offerSDP,
		headers: []string{"X-Caller-Template: sub"}}
	u.send(u.text(&inv))
	ok := u.final(2 * time.Second)
	if ok.StatusCode != 200 {
		t.Fatalf("got %d, want 200", ok.StatusCode)
	}
	u.send(u.ackFor(inv, ok))
	waitFor(t, 2*time.Second, "answered", func() bool { return e.srv.Stats().Answered == 1 })

	re := inv
	re.toTag, re.cseq, re.branch, re.headers = tagOf(ok), 2, "", nil
	re.body = strings.Replace(offerSDP, "t=0 0\r\n", "t=0 0\r\na=sendonly\r\n", 1)
	reText := u.text(&re)
	u.send(reText)
	if res := u.final(2 * time.Second); res.StatusCode != 200 {
		t.Fatalf("re-INVITE: got %d, want 200", res.StatusCode)
	}
	ack := re
	ack.method, ack.body, ack.branch = "ACK", "", ""
	u.send(u.text(&ack))
	for u.next(300*time.Millisecond) != nil { // a 200 retransmission crossing the ACK
	}
	u.send(reText)
	u.silent(time.Second)
	if got := e.srv.Stats().InviteRetransmissions; got != 1 {
		t.Errorf("InviteRetransmissions %d, want 1", got)
	}
	sess := e.media.Session(inv.callIDOr(t, ok))
	if got := len(sess.Remotes()); got != 1 {
		t.Errorf("media session got %d offers, want 1 (the repeat must not reach it)", got)
	}
	hangUp(t, u, inv, tagOf(ok), 10)
}

// The BYE's transaction ends once it is answered: a retransmitted BYE still gets a final
// answer, 200 while the call is being torn down or 481 once it is gone.
func TestByeRetransmissionAnswered(t *testing.T) {
	e := startEnv(t, nil)
	u := newRawUAC(t, "127.0.0.1", e.udp)
	inv := msg{method: "INVITE", ruri: "sip:answer@" + e.udp.String(), toUser: "answer", body: offerSDP,
		headers: []string{"X-Caller-Template: sub"}}
	u.send(u.text(&inv))
	ok := u.final(2 * time.Second)
	if ok.StatusCode != 200 {
		t.Fatalf("got %d, want 200", ok.StatusCode)
	}
	u.send(u.ackFor(inv, ok))
	waitFor(t, 2*time.Second, "answered", func() bool { return e.srv.Stats().Answered == 1 })

	bye := inv
	bye.method, bye.toTag, bye.cseq, bye.branch, bye.body, bye.headers = "BYE", tagOf(ok), 2, "", "", nil
	byeText := u.text(&bye)
	u.send(byeText)
	if res := u.final(2 * time.Second); res.StatusCode != 200 {
		t.Fatalf("BYE: got %d, want 200", res.StatusCode)
	}
	waitFor(t, 2*time.Second, "call slot released", func() bool { return e.srv.Stats().CallsActive == 0 })
	u.send(byeText)
	if res := u.final(2 * time.Second); res.StatusCode != 481 && res.StatusCode != 200 {
		t.Errorf("retransmitted BYE: got %d, want 481 (or 200)", res.StatusCode)
	}
}
