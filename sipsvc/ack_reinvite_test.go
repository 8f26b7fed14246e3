package sipsvc_test

import (
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/sidecar-voip/sidecar/config"
	"github.com/sidecar-voip/sidecar/rtp"
	"github.com/sidecar-voip/sidecar/sipsvc"
)

// Late offer: a re-INVITE on the wire just before the ACK carrying the answer to our offer.
// The session must get the ACK's answer before the re-INVITE's offer (sipgo hands each
// message to its own goroutine, so the re-INVITE often wins the race to the service).
func TestLateOfferAckAnswerBeforeReInviteOffer(t *testing.T) {
	answer := strings.Replace(offerSDP, "c=IN IP4 127.0.0.1", "c=IN IP4 127.0.0.2", 1)
	reoffer := strings.Replace(offerSDP, "c=IN IP4 127.0.0.1", "c=IN IP4 127.0.0.3", 1)
	e := startEnv(t, nil)
	u := newRawUAC(t, "127.0.0.1", e.udp)
	const calls = 30
	bad := 0
	for i := 0; i < calls; i++ {
		inv := msg{method: "INVITE", ruri: "sip:answer@" + e.udp.String(), toUser: "answer",
			headers: []string{"X-Caller-Template: sub"}}
		u.send(u.text(&inv))
		ok := u.final(2 * time.Second)
		if ok.StatusCode != 200 {
			t.Fatalf("call %d: got %d, want 200", i, ok.StatusCode)
		}
		r := inDialog(inv, tagOf(ok), "INVITE", 2, reoffer)
		ack := inv
		ack.method, ack.branch, ack.body, ack.toTag = "ACK", "", answer, tagOf(ok)
		u.send(u.text(&r))
		u.send(u.text(&ack))
		res := u.final(2 * time.Second)
		if res.StatusCode != 200 || res.CSeq().SeqNo != 2 {
			t.Fatalf("call %d: re-INVITE got %d (CSeq %d), want 200", i, res.StatusCode, res.CSeq().SeqNo)
		}
		a := ackOf(r, "")
		u.send(u.text(&a))
		sess := e.media.Session(inv.callIDOr(t, ok))
		waitFor(t, 2*time.Second, "both applied", func() bool { return len(sess.Remotes()) == 2 })
		if got := sess.Remotes(); string(got[0]) != answer || string(got[1]) != reoffer {
			bad++
		}
		hangUp(t, u, inv, tagOf(ok), 3)
	}
	if bad > 0 {
		t.Errorf("%d of %d calls: the re-INVITE's offer reached the session before the ACK's answer", bad, calls)
	}
}

// shortTimers makes sipgo's Timer L (64*T1) 3.2 s for one test, so an ack-timeout of 5 s
// outlives the INVITE server transaction.
//
// sip.SetTimers writes sipgo package variables that the transactions of earlier tests read
// without synchronisation: the race detector reports that (a test-only race, not the
// service's), so a test that needs it is skipped under -race and runs in make test.
func shortTimers(t *testing.T) {
	if raceEnabled {
		t.Skip("sip.SetTimers races with earlier tests' sipgo transactions under -race")
	}
	sip.SetTimers(50*time.Millisecond, 400*time.Millisecond, 5*time.Second)
	t.Cleanup(func() { sip.SetTimers(500*time.Millisecond, 4*time.Second, 5*time.Second) })
}

// An ack-timeout longer than Timer L: the unacknowledged 200 to a re-INVITE still ends the
// call with BYE at the ack-timeout (sipgo's transaction, and the retransmissions, ended
// at Timer L), and it is counted.
func TestReInviteNoAckBeyondTimerL(t *testing.T) {
	shortTimers(t)
	e := startEnv(t, func(c *config.Config) { c.SIP.ACKTimeout = 5 * time.Second })
	u := newRawUAC(t, "127.0.0.1", e.udp)
	inv, ok := answerCall(t, e, u)
	waitFor(t, 2*time.Second, "answered", func() bool { return e.srv.Stats().Answered == 1 })
	r := inDialog(inv, tagOf(ok), "INVITE", 2, offerSDP)
	start := time.Now()
	u.send(u.text(&r))
	res, reqs := responses(u, 7*time.Second, "INVITE", 2)
	if len(res) == 0 || res[0].StatusCode != 200 {
		t.Fatalf("re-INVITE: got %d answers, want 200 OK", len(res))
	}
	if !hasBye(reqs) {
		t.Fatalf("no BYE after the re-INVITE's 200 went unacknowledged for the ack-timeout")
	}
	if waited := time.Since(start); waited < 5*time.Second {
		t.Errorf("BYE after %v, before the ack-timeout", waited)
	}
	if got := e.srv.Stats().NoACK; got != 1 {
		t.Errorf("NoACK = %d, want 1", got)
	}
	waitFor(t, 2*time.Second, "call ended", func() bool { return e.srv.Stats().CallsActive == 0 })
}

// An ACK that arrives after Timer L but within the ack-timeout is still the ACK: the call
// stays up. Run for the initial 200 and for a re-INVITE's.
func TestAckAfterTimerL(t *testing.T) {
	for _, initial := range []bool{true, false} {
		name := "re-INVITE"
		if initial {
			name = "INVITE"
		}
		t.Run(name, func(t *testing.T) {
			shortTimers(t)
			e := startEnv(t, func(c *config.Config) { c.SIP.ACKTimeout = 5 * time.Second })
			u := newRawUAC(t, "127.0.0.1", e.udp)
			inv := msg{method: "INVITE", ruri: "sip:answer@" + e.udp.String(), toUser: "answer",
				body: offerSDP, headers: []string{"X-Caller-Template: sub"}}
			u.send(u.text(&inv))
			ok := u.final(2 * time.Second)
			if ok.StatusCode != 200 {
				t.Fatalf("INVITE: got %d, want 200", ok.StatusCode)
			}
			late := u.ackFor(inv, ok)
			cseq := uint32(1)
			if !initial {
				u.send(late)
				r := inDialog(inv, tagOf(ok), "INVITE", 2, offerSDP)
				u.send(u.text(&r))
				a := ackOf(r, "")
				late, cseq = u.text(&a), 2
			}
			// No ACK until Timer L (3.2 s) has ended the transaction.
			res, reqs := responses(u, 4*time.Second, "INVITE", cseq)
			if len(res) == 0 || res[0].StatusCode != 200 {
				t.Fatalf("got %d answers, want 200 OK", len(res))
			}
			u.send(late)
			_, more := responses(u, 2500*time.Millisecond, "INVITE", cseq)
			if hasBye(append(reqs, more...)) {
				t.Fatalf("BYE although the ACK came within the ack-timeout")
			}
			st := e.srv.Stats()
			if st.NoACK != 0 || st.Answered != 1 || st.CallsActive != 1 {
				t.Errorf("stats: NoACK=%d Answered=%d CallsActive=%d, want 0, 1, 1", st.NoACK, st.Answered, st.CallsActive)
			}
			hangUp(t, u, inv, tagOf(ok), 3)
		})
	}
}

// A 200 to a re-INVITE that cannot be sent (its TCP connection is gone) ends the call: the
// media session already took the offer, so the call cannot carry on half changed. The
// re-INVITE is held (ackGrace, 250 ms) until the initial 200's ACK, sent over UDP once the
// TCP connection is closed, so its 200 is written to the closed connection.
func TestReInviteAnswerNotSentEndsCall(t *testing.T) {
	e := startEnv(t, nil)
	srv := sipsvctestAddr(t, e, "tcp")
	conn, err := net.Dial("tcp", srv.String())
	if err != nil {
		t.Fatal(err)
	}
	u := newStreamUAC(t, conn, srv, "TCP")
	udp := newRawUAC(t, "127.0.0.1", e.udp)
	inv := msg{method: "INVITE", ruri: "sip:answer@" + srv.String() + ";transport=tcp", toUser: "answer", body: offerSDP,
		contact: "sip:alice@" + u.local.String() + ";transport=tcp", headers: []string{"X-Caller-Template: sub"}}
	u.send(u.text(&inv))
	ok := u.final(2 * time.Second)
	if ok.StatusCode != 200 {
		t.Fatalf("INVITE: got %d, want 200", ok.StatusCode)
	}
	r := inDialog(inv, tagOf(ok), "INVITE", 2, offerSDP)
	u.send(u.text(&r))
	// sipgo binds the re-INVITE's transaction to the connection when the request arrives;
	// the connection ends after that, while the re-INVITE waits for the ACK. FIN, not RST:
	// the service has read the re-INVITE, then reads the end of the stream and closes it.
	time.Sleep(50 * time.Millisecond)
	if err := conn.(*net.TCPConn).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	udp.send(udp.ackFor(inv, ok))
	waitFor(t, 3*time.Second, "call ended", func() bool { return e.srv.Stats().CallsActive == 0 })
	if got := e.srv.Stats().NoACK; got != 1 {
		t.Errorf("NoACK = %d, want 1", got)
	}
	if !strings.Contains(e.log.String(), "200 OK to re-INVITE not sent") {
		t.Errorf("the log does not say the re-INVITE's 200 was not sent:\n%s", e.log.String())
	}
}

// With the real media plane (package rtp), which takes the first SDP after its own offer as
// the answer: a late-offer call whose ACK (with the answer) and a re-INVITE cross still
// answers the re-INVITE with SDP, and the call stays up.
func TestLateOfferAckAndReInviteCrossRealMedia(t *testing.T) {
	// A probed port range, not a fixed one (the engine skips ports taken meanwhile).
	probe, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	base := probe.LocalAddr().(*net.UDPAddr).Port
	probe.Close()
	base = min(base+base%2, 65534-200)
	engine, err := rtp.NewEngine(rtp.Config{
		PortMin: base, PortMax: base + 199, Address: netip.MustParseAddr("127.0.0.1"),
		Bind: netip.MustParseAddr("127.0.0.1"), Symmetric: true,
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer engine.Close()
	e := startEnvOpts(t, nil, func(o *sipsvc.Options) { o.Media = engine })
	u := newRawUAC(t, "127.0.0.1", e.udp)
	answer := strings.Replace(offerSDP, "m=audio 30000", "m=audio 30002", 1)
	reoffer := strings.Replace(offerSDP, "o=alice 1 1", "o=alice 1 2", 1)
	for i := 0; i < 20; i++ {
		inv := msg{method: "INVITE", ruri: "sip:answer@" + e.udp.String(), toUser: "answer",
			headers: []string{"X-Caller-Template: sub"}}
		u.send(u.text(&inv))
		ok := u.final(2 * time.Second)
		if ok.StatusCode != 200 || len(ok.Body()) == 0 {
			t.Fatalf("call %d: INVITE got %d with %d bytes of SDP, want 200 with an offer", i, ok.StatusCode, len(ok.Body()))
		}
		r := inDialog(inv, tagOf(ok), "INVITE", 2, reoffer)
		ack := inv
		ack.method, ack.branch, ack.body, ack.toTag = "ACK", "", answer, tagOf(ok)
		u.send(u.text(&r))
		u.send(u.text(&ack))
		res := u.final(2 * time.Second)
		if res.StatusCode != 200 || !mediaRE.Match(res.Body()) {
			t.Fatalf("call %d: re-INVITE got %d with body %q, want 200 with an SDP answer", i, res.StatusCode, res.Body())
		}
		a := ackOf(r, "")
		u.send(u.text(&a))
		if _, reqs := responses(u, 100*time.Millisecond, "INVITE", 2); hasBye(reqs) {
			t.Fatalf("call %d: BYE after the crossed ACK and re-INVITE", i)
		}
		hangUp(t, u, inv, tagOf(ok), 3)
	}
}
