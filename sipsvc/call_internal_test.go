package sipsvc

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/sidecar-voip/sidecar/media"
)

// fakeSession is a media.Session that records the SDP handed to SetRemote, in order.
type fakeSession struct {
	media.Session // the audio side, never used by the state machine (nil: a call panics)

	mu     sync.Mutex
	remote []string
	fail   bool // SetRemote refuses every SDP
}

func (f *fakeSession) LocalSDP() []byte      { return []byte("local") }
func (f *fakeSession) Done() <-chan struct{} { return nil }
func (f *fakeSession) Close() error          { return nil }

func (f *fakeSession) SetRemote(sdp []byte) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail {
		return nil, errors.New("refused")
	}
	f.remote = append(f.remote, string(sdp))
	return []byte("reply to " + string(sdp)), nil
}

func (f *fakeSession) applied() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.remote)
}

// The initial INVITE has CSeq 1; a re-INVITE being answered in the "reoffering" setup has
// CSeq 2; the table's re-INVITE has CSeq 3.
const (
	inviteCSeq  = 1
	reInvCSeq   = 2
	nextReInvCS = 3
)

// callSetups bring a new call to each phase (and the variants that matter) through
// transitions only.
var callSetups = []struct {
	name  string
	build func(s *callState)
}{
	{"offered", func(s *callState) {}},
	{"early", func(s *callState) { s.progressSent() }},
	{"answered", func(s *callState) { mustClaim(s) }},
	{"confirmed", func(s *callState) { mustClaim(s); mustConfirm(s) }},
	{"reoffering", func(s *callState) {
		mustClaim(s)
		mustConfirm(s)
		if _, _, wait, err := s.reoffer(reInvCSeq, nil); wait != nil || err != nil {
			panic(fmt.Sprintf("reoffer: wait %v, err %v", wait, err))
		}
	}},
	{"early-bye", func(s *callState) { s.progressSent(); s.byeIn() }},
	{"caller-bye", func(s *callState) { mustClaim(s); mustConfirm(s); s.byeIn() }},
	{"our-bye", func(s *callState) { mustClaim(s); mustConfirm(s); s.byeOut() }},
	{"rejected", func(s *callState) { _ = s.reject(486) }},
	{"cancelled", func(s *callState) { s.progressSent(); s.cancel() }},
}

func mustClaim(s *callState) {
	if already, err := s.answer(true); already || err != nil {
		panic(fmt.Sprintf("answer: already %v, err %v", already, err))
	}
}

func mustConfirm(s *callState) {
	if k, err := s.ack(inviteCSeq, nil, nil); k != ackInitial || err != nil {
		panic(fmt.Sprintf("ack: %v, %v", k, err))
	}
	if err := s.confirm(nil, nil); err != nil {
		panic(err)
	}
}

// sentinels name the errors the table expects.
var sentinels = []struct {
	name string
	err  error
}{
	{"ErrAnswered", ErrAnswered}, {"ErrNotAnswered", ErrNotAnswered}, {"ErrCallEnded", ErrCallEnded},
	{"ErrPeerHangup", ErrPeerHangup}, {"ErrStaleCSeq", ErrStaleCSeq}, {"ErrNoAnswer", ErrNoAnswer},
	{"errInvitePending", errInvitePending}, {"errReInviteRepeat", errReInviteRepeat},
	{"errNoSession", errNoSession},
}

func errName(err error) string {
	for _, s := range sentinels {
		if errors.Is(err, s.err) {
			return s.name
		}
	}
	return "error(" + err.Error() + ")"
}

// callEvents are the transitions, each applied to a call in every setup; an event returns
// the effect it asks the handler to perform (or an error).
var callEvents = []struct {
	name  string
	apply func(s *callState) (string, error)
}{
	{"progress", func(s *callState) (string, error) {
		skip, err := s.progress()
		if err != nil || skip {
			return "skip", err
		}
		s.progressSent()
		return "send", nil
	}},
	{"answer", func(s *callState) (string, error) {
		already, err := s.answer(true)
		if already {
			return "already", err
		}
		return "send 200", err
	}},
	{"reject", func(s *callState) (string, error) { return "send 486", s.reject(486) }},
	{"cancel", func(s *callState) (string, error) {
		if s.cancel() {
			return "cancelled", nil
		}
		return "ignored", nil
	}},
	{"ack-invite", func(s *callState) (string, error) {
		k, err := s.ack(inviteCSeq, []byte("answer"), nil)
		if k == ackInitial {
			err = s.confirm([]byte("answer"), nil)
		}
		return ackNames[k], err
	}},
	{"ack-reinvite", func(s *callState) (string, error) {
		k, err := s.ack(reInvCSeq, []byte("answer"), nil)
		return ackNames[k], err
	}},
	{"reinvite", func(s *callState) (string, error) {
		p, body, wait, err := s.reoffer(nextReInvCS, []byte("offer"))
		switch {
		case wait != nil:
			return "wait", err
		case p != nil:
			return "send 200 " + string(body), err
		}
		return "refuse", err
	}},
	{"bye-in", func(s *callState) (string, error) { return byeNames[s.byeIn()], nil }},
	{"bye-out", func(s *callState) (string, error) {
		send, err := s.byeOut()
		if send {
			return "send BYE", err
		}
		return "none", err
	}},
	{"end", func(s *callState) (string, error) {
		act, final := s.end(false, 603)
		return fmt.Sprintf("%s %d", endNames[act], final), nil
	}},
	{"end-cancelled", func(s *callState) (string, error) {
		act, final := s.end(true, 603)
		return fmt.Sprintf("%s %d", endNames[act], final), nil
	}},
	{"info-stale", func(s *callState) (string, error) { return "refuse", s.inDialogRequest("INFO", 0) }},
	{"invite-again", func(s *callState) (string, error) {
		if s.repeatsInvite(inviteCSeq) {
			return "drop", nil
		}
		return "new call", nil
	}},
}

var (
	ackNames = map[ackKind]string{ackStray: "stray", ackInitial: "confirm", ackReInvite: "release re-INVITE"}
	byeNames = map[byeAction]string{byeNoDialog: "481", byeEarly: "200, INVITE 487", byeDialog: "ReadBye"}
	endNames = map[endAction]string{endNone: "none", endRespond: "respond", endCancelled: "count cancel", endBye: "BYE"}
)

// wantTransitions is the state machine's table: event -> setup -> "effect -> phase final"
// (or "effect: ErrX -> phase final" for a refusal). final is the status the call has sent.
var wantTransitions = map[string]map[string]string{
	"progress": {
		"offered": "send -> early 0", "early": "send -> early 0",
		"answered": "skip -> answered 200", "confirmed": "skip -> confirmed 200", "reoffering": "skip -> confirmed 200",
		"early-bye": "skip: ErrPeerHangup -> ending 0", "caller-bye": "skip -> ending 200", "our-bye": "skip -> ending 200",
		"rejected": "skip: ErrCallEnded -> ended 486", "cancelled": "skip: ErrCallEnded -> ended 487",
	},
	"answer": {
		"offered": "send 200 -> answered 200", "early": "send 200 -> answered 200",
		"answered": "already -> answered 200", "confirmed": "already -> confirmed 200", "reoffering": "already -> confirmed 200",
		"early-bye": "send 200: ErrPeerHangup -> ending 0", "caller-bye": "already -> ending 200", "our-bye": "already -> ending 200",
		"rejected": "send 200: ErrCallEnded -> ended 486", "cancelled": "send 200: ErrCallEnded -> ended 487",
	},
	"reject": {
		"offered": "send 486 -> ended 486", "early": "send 486 -> ended 486",
		"answered": "send 486: ErrAnswered -> answered 200", "confirmed": "send 486: ErrAnswered -> confirmed 200",
		"reoffering": "send 486: ErrAnswered -> confirmed 200",
		"early-bye":  "send 486: ErrPeerHangup -> ending 0", "caller-bye": "send 486: ErrAnswered -> ending 200",
		"our-bye": "send 486: ErrAnswered -> ending 200", "rejected": "send 486: ErrCallEnded -> ended 486",
		"cancelled": "send 486: ErrCallEnded -> ended 487",
	},
	"cancel": {
		"offered": "cancelled -> ended 487", "early": "cancelled -> ended 487",
		// CANCEL racing the answer: the 200 was claimed but never left.
		"answered":  "cancelled -> ended 487",
		"confirmed": "ignored -> confirmed 200", "reoffering": "ignored -> confirmed 200",
		"early-bye": "ignored -> ending 0", "caller-bye": "ignored -> ending 200", "our-bye": "ignored -> ending 200",
		"rejected": "ignored -> ended 486", "cancelled": "ignored -> ended 487",
	},
	"ack-invite": {
		"offered": "stray -> offered 0", "early": "stray -> early 0",
		"answered":  "confirm -> confirmed 200",
		"confirmed": "stray -> confirmed 200", "reoffering": "stray -> confirmed 200",
		// BYE before ACK: the late ACK confirms nothing.
		"early-bye": "stray -> ending 0", "caller-bye": "stray -> ending 200", "our-bye": "stray -> ending 200",
		"rejected": "stray -> ended 486", "cancelled": "stray -> ended 487",
	},
	"ack-reinvite": {
		"offered": "stray -> offered 0", "early": "stray -> early 0", "answered": "stray -> answered 200",
		"confirmed": "stray -> confirmed 200", "reoffering": "release re-INVITE -> confirmed 200",
		"early-bye": "stray -> ending 0", "caller-bye": "stray -> ending 200", "our-bye": "stray -> ending 200",
		"rejected": "stray -> ended 486", "cancelled": "stray -> ended 487",
	},
	"reinvite": {
		"offered":    "refuse: errInvitePending -> offered 0",
		"early":      "refuse: errInvitePending -> early 0",
		"answered":   "wait -> answered 200", // for the ACK of the initial 200
		"confirmed":  "send 200 reply to offer -> confirmed 200",
		"reoffering": "wait -> confirmed 200", // for the ACK of the pending re-INVITE's 200
		"early-bye":  "refuse: ErrCallEnded -> ending 0", "caller-bye": "refuse: ErrCallEnded -> ending 200",
		"our-bye": "refuse: ErrCallEnded -> ending 200", "rejected": "refuse: ErrCallEnded -> ended 486",
		"cancelled": "refuse: ErrCallEnded -> ended 487",
	},
	"bye-in": {
		"offered": "200, INVITE 487 -> ending 0", "early": "200, INVITE 487 -> ending 0",
		"answered":  "ReadBye -> ending 200", // BYE before ACK
		"confirmed": "ReadBye -> ending 200", "reoffering": "ReadBye -> ending 200",
		"early-bye":  "200, INVITE 487 -> ending 0", // a retransmitted BYE
		"caller-bye": "ReadBye -> ending 200", "our-bye": "ReadBye -> ending 200",
		"rejected": "481 -> ended 486", "cancelled": "481 -> ended 487",
	},
	"bye-out": {
		"offered": "none: ErrNotAnswered -> offered 0", "early": "none: ErrNotAnswered -> early 0",
		"answered": "send BYE -> ending 200", "confirmed": "send BYE -> ending 200", "reoffering": "send BYE -> ending 200",
		"early-bye": "none: ErrNotAnswered -> ending 0", "caller-bye": "none -> ending 200", "our-bye": "none -> ending 200",
		"rejected": "none: ErrNotAnswered -> ended 486", "cancelled": "none: ErrNotAnswered -> ended 487",
	},
	"end": {
		"offered": "respond 603 -> ended 603", "early": "respond 603 -> ended 603",
		"answered": "BYE 200 -> answered 200", "confirmed": "BYE 200 -> confirmed 200", "reoffering": "BYE 200 -> confirmed 200",
		"early-bye": "respond 487 -> ended 487", "caller-bye": "none 200 -> ended 200", "our-bye": "none 200 -> ended 200",
		"rejected": "none 486 -> ended 486", "cancelled": "none 487 -> ended 487",
	},
	"end-cancelled": {
		"offered": "count cancel 487 -> ended 487", "early": "count cancel 487 -> ended 487",
		"answered": "BYE 200 -> answered 200", "confirmed": "BYE 200 -> confirmed 200", "reoffering": "BYE 200 -> confirmed 200",
		"early-bye": "respond 487 -> ended 487", "caller-bye": "none 200 -> ended 200", "our-bye": "none 200 -> ended 200",
		"rejected": "none 486 -> ended 486", "cancelled": "none 487 -> ended 487",
	},
}

// Every event in every phase: the effect, the refusal, the phase and final status after.
// The CSeq checks and the repeated INVITE do not depend on the phase.
func TestCallStateTransitions(t *testing.T) {
	for _, ev := range callEvents {
		for _, setup := range callSetups {
			t.Run(ev.name+"/"+setup.name, func(t *testing.T) {
				s := newCallState(inviteCSeq)
				s.setMedia(&fakeSession{}, false)
				setup.build(s)
				before := s.snapshot().phase
				var seen []string
				s.observe = func(from, to phase, _ int) { seen = append(seen, from.String()+">"+to.String()) }
				effect, err := ev.apply(s)
				snap := s.snapshot()
				// The observer saw the change, as one chain from the phase before to the
				// phase after, and nothing when the phase did not change.
				if chain := observedChain(before, seen); chain != snap.phase.String() {
					t.Errorf("observer saw %q from %s, ending at %q; want it to end at %s", seen, before, chain, snap.phase)
				}
				got := effect
				if err != nil {
					got += ": " + errName(err)
				}
				got += fmt.Sprintf(" -> %s %d", snap.phase, snap.final)
				want, ok := wantTransitions[ev.name][setup.name]
				switch ev.name {
				case "info-stale":
					want, ok = fmt.Sprintf("refuse: ErrStaleCSeq -> %s %d", snap.phase, snap.final), true
				case "invite-again":
					want, ok = fmt.Sprintf("drop -> %s %d", snap.phase, snap.final), true
				}
				if !ok {
					t.Fatalf("no expectation for %s in %s (got %q)", ev.name, setup.name, got)
				}
				if got != want {
					t.Errorf("got  %q\nwant %q", got, want)
				}
			})
		}
	}
}

// observedChain follows the observed transitions from phase p and returns where they end;
// "broken" when one does not start where the previous ended.
func observedChain(p phase, seen []string) string {
	at := p.String()
	for _, tr := range seen {
		from, to, _ := strings.Cut(tr, ">")
		if from != at || from == to {
			return "broken"
		}
		at = to
	}
	return at
}

// The observer gets a call's phases in order with the final status, for a whole call.
func TestCallStateObserver(t *testing.T) {
	type ev struct {
		to    phase
		final int
	}
	for _, tc := range []struct {
		name string
		run  func(s *callState)
		want []ev
	}{
		{"answered, caller hangs up", func(s *callState) {
			s.progressSent()
			mustClaim(s)
			mustConfirm(s)
			s.byeIn()
			s.end(false, 0)
			s.close()
		}, []ev{{phaseEarly, 0}, {phaseAnswered, 200}, {phaseConfirmed, 200}, {phaseEnding, 200}, {phaseEnded, 200}}},
		{"rejected busy", func(s *callState) { s.progressSent(); _ = s.reject(486); s.close() },
			[]ev{{phaseEarly, 0}, {phaseEnded, 486}}},
		{"cancelled", func(s *callState) { s.progressSent(); s.cancel(); s.end(true, 0); s.close() },
			[]ev{{phaseEarly, 0}, {phaseEnded, 487}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newCallState(inviteCSeq)
			var got []ev
			s.observe = func(_, to phase, final int) { got = append(got, ev{to, final}) }
			tc.run(s)
			if !slices.Equal(got, tc.want) {
				t.Errorf("observed %v, want %v", got, tc.want)
			}
		})
	}
}

// An ACK's SDP answer (late offer) reaches the session before the offer of a re-INVITE that
// crossed that ACK, and a re-INVITE's ACK answer before the next re-INVITE's offer.
func TestCallStateACKCrossingReInvite(t *testing.T) {
	s := newCallState(inviteCSeq)
	sess := &fakeSession{}
	s.setMedia(sess, true) // late offer: our 200 carries the offer, the ACK the answer
	mustClaim(s)

	_, _, wait, err := s.reoffer(reInvCSeq, nil) // arrives before the ACK
	if wait == nil || err != nil {
		t.Fatalf("re-INVITE before the ACK: wait %v, err %v; want to wait", wait, err)
	}
	if k, err := s.ack(inviteCSeq, []byte("answer1"), nil); k != ackInitial || err != nil {
		t.Fatalf("ack: %v, %v", k, err)
	}
	if err := s.confirm([]byte("answer1"), nil); err != nil {
		t.Fatal(err)
	}
	<-wait                                       // closed by the confirm
	p, _, wait, err := s.reoffer(reInvCSeq, nil) // no SDP: the answer is due in its ACK
	if p == nil || wait != nil || err != nil {
		t.Fatalf("re-INVITE after the ACK: %v, %v, %v", p, wait, err)
	}
	_, _, wait, err = s.reoffer(nextReInvCS, []byte("offer3"))
	if wait == nil || err != nil {
		t.Fatalf("re-INVITE before the previous one's ACK: wait %v, err %v; want to wait", wait, err)
	}
	if k, err := s.ack(reInvCSeq, []byte("answer2"), nil); k != ackReInvite || err != nil {
		t.Fatalf("ack of re-INVITE: %v, %v", k, err)
	}
	<-wait
	if _, _, _, err := s.reoffer(nextReInvCS, []byte("offer3")); err != nil {
		t.Fatal(err)
	}
	want := []string{"answer1", "", "answer2", "offer3"} // "": SetRemote(nil) asks for our offer
	if got := sess.applied(); !slices.Equal(got, want) {
		t.Errorf("SDP applied in order %q, want %q", got, want)
	}
}

// The same crossing with the ACK and the re-INVITE on their own goroutines, as sipgo runs
// them: whichever is scheduled first, the answer reaches the session before the offer.
// Run with -race.
func TestCallStateACKCrossingReInviteConcurrent(t *testing.T) {
	for range 200 {
		s := newCallState(inviteCSeq)
		sess := &fakeSession{}
		s.setMedia(sess, true)
		mustClaim(s)
		var wg sync.WaitGroup
		wg.Go(func() {
			for {
				_, _, wait, err := s.reoffer(reInvCSeq, []byte("offer"))
				if err != nil {
					t.Error(err)
					return
				}
				if wait == nil {
					return
				}
				<-wait
			}
		})
		wg.Go(func() {
			if k, _ := s.ack(inviteCSeq, []byte("answer"), nil); k == ackInitial {
				_ = s.confirm([]byte("answer"), nil)
			}
		})
		wg.Wait()
		if got := sess.applied(); !slices.Equal(got, []string{"answer", "offer"}) {
			t.Fatalf("SDP applied in order %q, want answer then offer", got)
		}
	}
}

// CANCEL racing the answer: a 200 claimed but never sent (sipgo answered the CANCEL and the
// INVITE 487 first) leaves an unanswered call with 487 and nothing to send at its end; a
// CANCEL before the claim makes the answer fail.
func TestCallStateCancelRacingAnswer(t *testing.T) {
	s := newCallState(inviteCSeq)
	mustClaim(s)
	if !s.cancel() {
		t.Fatal("cancel after the claim of the 200 ignored")
	}
	if s.answered() {
		t.Error("a cancelled call reports Answered")
	}
	if _, err := s.byeOut(); !errors.Is(err, ErrNotAnswered) {
		t.Errorf("BYE on a cancelled call: %v, want ErrNotAnswered", err)
	}
	if act, final := s.end(true, 603); act != endNone || final != 487 {
		t.Errorf("end: %v %d, want nothing to do, 487", endNames[act], final)
	}

	s = newCallState(inviteCSeq)
	s.progressSent()
	s.cancel()
	if _, err := s.answer(true); !errors.Is(err, ErrCallEnded) {
		t.Errorf("answer after CANCEL: %v, want ErrCallEnded", err)
	}
}

// BYE before the ACK: the call ends by the caller, the late ACK is stray, no BYE goes back.
// A BYE sipgo could not answer is undone: the call's end then sends our BYE.
func TestCallStateByeBeforeACK(t *testing.T) {
	s := newCallState(inviteCSeq)
	mustClaim(s)
	if a := s.byeIn(); a != byeDialog {
		t.Fatalf("BYE before ACK: %s, want ReadBye", byeNames[a])
	}
	if !s.peerHungUp() {
		t.Error("caller's BYE not recorded")
	}
	if k, _ := s.ack(inviteCSeq, nil, nil); k != ackStray {
		t.Errorf("ACK after BYE: %s, want stray", ackNames[k])
	}
	if act, _ := s.end(false, 603); act != endNone {
		t.Errorf("end after the caller's BYE: %s, want none", endNames[act])
	}

	s = newCallState(inviteCSeq)
	mustClaim(s)
	s.byeIn()
	s.byeNotAnswered()
	if act, _ := s.end(false, 603); act != endBye {
		t.Errorf("end after an unanswered BYE: %s, want BYE", endNames[act])
	}
}

// A 200 to a re-INVITE that cannot be sent (or is never acknowledged) releases the
// re-INVITE; the handler cancels the call and its end sends BYE. The next re-INVITE is
// admitted without waiting for an ACK that will never come.
func TestCallStateReInviteAnswerNotSent(t *testing.T) {
	s := newCallState(inviteCSeq)
	s.setMedia(&fakeSession{}, false)
	mustClaim(s)
	mustConfirm(s)
	p, _, _, err := s.reoffer(reInvCSeq, []byte("offer"))
	if err != nil {
		t.Fatal(err)
	}
	s.endReoffer(p)
	if _, _, wait, err := s.reoffer(nextReInvCS, []byte("offer")); wait != nil || err != nil {
		t.Errorf("next re-INVITE: wait %v, err %v", wait, err)
	}
	if act, _ := s.end(false, 0); act != endBye {
		t.Errorf("end: %s, want BYE", endNames[act])
	}
	if send, err := s.byeOut(); !send || err != nil {
		t.Errorf("BYE: send %v, err %v", send, err)
	}
	if send, _ := s.byeOut(); send {
		t.Error("second BYE sent")
	}
	s.close()
	if snap := s.snapshot(); snap.phase != phaseEnded {
		t.Errorf("phase %s after close, want ended", snap.phase)
	}
}

// Repeats after the ACK: the initial INVITE (dropped, never a second call) and an
// acknowledged re-INVITE (dropped); a lower CSeq is stale.
func TestCallStateRepeatsAfterACK(t *testing.T) {
	s := newCallState(inviteCSeq)
	s.setMedia(&fakeSession{}, false)
	mustClaim(s)
	mustConfirm(s)
	if !s.repeatsInvite(inviteCSeq) || s.repeatsInvite(inviteCSeq+1) {
		t.Error("repeatsInvite does not match the initial CSeq only")
	}
	if _, _, _, err := s.reoffer(reInvCSeq, []byte("offer")); err != nil {
		t.Fatal(err)
	}
	if k, _ := s.ack(reInvCSeq, nil, nil); k != ackReInvite {
		t.Fatalf("ack: %s", ackNames[k])
	}
	if _, _, _, err := s.reoffer(reInvCSeq, []byte("offer")); !errors.Is(err, errReInviteRepeat) {
		t.Errorf("repeated re-INVITE: %v, want errReInviteRepeat", err)
	}
	if _, _, _, err := s.reoffer(inviteCSeq, []byte("offer")); !errors.Is(err, ErrStaleCSeq) {
		t.Errorf("re-INVITE with a lower CSeq: %v, want ErrStaleCSeq", err)
	}
}

// The answer our offer is due: missing, unreadable or refused, it is an error (the call
// ends); a call without late offer ignores the ACK's body.
func TestCallStateACKAnswer(t *testing.T) {
	cases := []struct {
		name   string
		late   bool
		fail   bool
		answer []byte
		rerr   error
		want   error
	}{
		{"late offer answered", true, false, []byte("answer"), nil, nil},
		{"late offer no answer", true, false, nil, nil, ErrNoAnswer},
		{"late offer unreadable", true, false, nil, errUnsupportedBody, errUnsupportedBody},
		{"late offer refused", true, true, []byte("answer"), nil, ErrNoAnswer},
		{"early offer ignores the body", false, true, nil, nil, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newCallState(inviteCSeq)
			s.setMedia(&fakeSession{fail: tc.fail}, tc.late)
			mustClaim(s)
			s.ack(inviteCSeq, tc.answer, tc.rerr)
			err := s.confirm(tc.answer, tc.rerr)
			if (tc.want == nil) != (err == nil) || (tc.want != nil && !errors.Is(err, tc.want)) {
				t.Errorf("confirm: %v, want %v", err, tc.want)
			}
			if snap := s.snapshot(); snap.phase != phaseConfirmed {
				t.Errorf("phase %s, want confirmed", snap.phase)
			}
		})
	}
	s := newCallState(inviteCSeq)
	mustClaim(s)
	mustConfirm(s)
	if _, _, _, err := s.reoffer(reInvCSeq, []byte("offer")); !errors.Is(err, errNoSession) {
		t.Errorf("re-INVITE without media: %v, want errNoSession", err)
	}
}
