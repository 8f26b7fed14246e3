package sipsvc

import (
	"errors"
	"fmt"
	"sync"

	"github.com/sidecar-voip/sidecar/media"
)

// phase is where a call is in its life.
type phase int

const (
	phaseOffered   phase = iota // the INVITE arrived; 100 Trying sent
	phaseEarly                  // 180 or 183 sent
	phaseAnswered               // 200 OK sent, its ACK not yet received
	phaseConfirmed              // the ACK of the 200 OK received
	phaseEnding                 // BYE received or sent; after an early-dialog BYE the INVITE's 487 is due
	phaseEnded                  // a final answer other than 200 sent, or the call is over
)

var phaseNames = [...]string{"offered", "early", "answered", "confirmed", "ending", "ended"}

func (p phase) String() string {
	if p < 0 || int(p) >= len(phaseNames) {
		return fmt.Sprintf("phase(%d)", int(p))
	}
	return phaseNames[p]
}

// ErrStaleCSeq reports an in-dialog request whose CSeq is lower than one already received
// in the dialog (RFC 3261 12.2.2): it is answered 500.
var ErrStaleCSeq = errors.New("CSeq lower than the dialog's")

// ErrNoAnswer is the cause of a call's context when our SDP offer (in the 200 OK to a
// late-offer INVITE or to a re-INVITE without SDP) got no usable answer in the ACK.
var ErrNoAnswer = errors.New("no SDP answer in the ACK")

// errInvitePending reports a re-INVITE that arrived before the previous INVITE of the
// dialog got its final answer, or before its 2xx was acknowledged (RFC 3261 14.2): 500 with
// a random Retry-After of 0-10 s.
var errInvitePending = errors.New("previous INVITE still in progress")

// errReInviteRepeat reports a retransmission of a re-INVITE whose 2xx was acknowledged (its
// transaction, ended at the ACK, no longer absorbs it): dropped without an answer.
var errReInviteRepeat = errors.New("re-INVITE retransmission after its ACK")

// errNoSession reports a re-INVITE to a call without media: 488.
var errNoSession = errors.New("re-INVITE to a call without media")

// pendingAnswer is a re-INVITE being answered: from its admission until the ACK of its 2xx.
type pendingAnswer struct {
	cseq      uint32
	answerDue bool          // our 200 carries an offer: the ACK must carry the answer
	acked     chan struct{} // closed by the matching ACK
}

// callState is the state machine of one call. Every piece of state the call's handlers
// share lives here, and changes only through the methods below (the transitions). The
// handlers (INVITE, ACK, BYE, re-INVITE, INFO, and the dialplan's Channel methods on call)
// translate a SIP message into a transition and perform the side effect it returns: send
// an answer, a BYE, cancel the call's context.
//
// Lock rule: one mutex, mu, taken only inside callState's methods and released before they
// return. No method sends, waits, or calls back into the call; the one outside call made
// under mu is media.Session.SetRemote (SDP work on the session, which never calls into
// sipsvc), so the offers and answers reach the session in the order the machine accepted
// them: an ACK's answer is applied before the next re-INVITE's offer is admitted. The
// observer (observe) is also called under mu, so it sees the phases in order; it only
// enqueues without blocking. Nothing else in the package takes mu, and callState takes no
// other lock.
//
// Transitions (phase x event -> new phase; effect for the handler; refusals as errors).
// "answered+" is answered or confirmed, or ending/ended after a 200 was sent.
//
//	event                      from              to         effect / error
//	progress (180/183)         offered, early    early      send it (progressSent after)
//	                           answered+         -          nothing (nil)
//	                           ending (no 200)   -          ErrPeerHangup
//	                           ended             -          ErrCallEnded
//	answer (200)               offered, early    answered   send 200 until the ACK
//	                           answered+         -          nothing (already)
//	                           ending (no 200)   -          ErrPeerHangup (the BYE won: 487)
//	                           ended             -          ErrCallEnded
//	reject (300-699)           offered, early    ended      send the final answer
//	                           answered+         -          ErrAnswered
//	                           ending, ended     -          ErrPeerHangup / ErrCallEnded
//	CANCEL (sipgo sent 487)    offered, early,   ended      none (final 487); the 200 to a
//	                           answered                     cancelled INVITE never leaves
//	ACK of the INVITE's 200    answered          confirmed  ackInitial: sipgo's ReadAck, then
//	                                                        confirm applies a late offer's
//	                                                        answer (none or refused: error,
//	                                                        the call ends with BYE)
//	                           other             -          ackStray (ignored)
//	ACK of a re-INVITE's 200   any (pending)     -          ackReInvite: the answer it is due
//	                                                        applied, the re-INVITE released
//	re-offer (re-INVITE)       confirmed         -          pending; SetRemote(offer): send
//	                                                        200 with the SDP until its ACK
//	                           answered, or one  -          wait (the ACK of the 2xx before)
//	                           pending
//	                           offered, early    -          errInvitePending (500+Retry-After)
//	                           ending, ended     -          ErrCallEnded (481)
//	                           its CSeq acked    -          errReInviteRepeat (dropped)
//	                           lower CSeq        -          ErrStaleCSeq (500)
//	re-offer failed            any               -          the pending re-INVITE released;
//	(no ACK, 200 not sent)                                  the call ends (context cancelled)
//	INVITE again (same CSeq)   any               -          dropped (repeatsInvite)
//	BYE from the caller        offered, early    ending     byeEarly: 200, the INVITE gets 487
//	                           answered+         ending     byeDialog: sipgo's ReadBye (200)
//	                           ended (no 200)    -          byeNoDialog: 481
//	BYE from us (byeOut)       answered+         ending     send BYE once (none after the
//	                                                        caller's); else ErrNotAnswered
//	end (dialplan returned;    offered, early    ended      endRespond the code for the cause,
//	 timeouts: ACK, media,                                  or endCancelled after a CANCEL
//	 max duration, drain)      ending (no 200)   ended      endRespond 487
//	                           answered+ w/o BYE -          endBye, then close -> ended
//	                           other             ended      endNone
//
// Timeouts do not change the phase: the ACK timeout makes Answer return ErrNoACK (or the
// re-INVITE handler cancel the call), media inactivity and the maximum duration cancel the
// call's context; the dialplan returns and end decides (BYE when answered, else the final
// answer for the cause).
type callState struct {
	inviteCSeq uint32        // CSeq of the initial INVITE; set at creation, never changed
	acked      chan struct{} // closed when the initial 200 is acknowledged, or at the call's end (endSetup); never reassigned

	mu         sync.Mutex
	phase      phase
	final      int  // the final status sent: 200 when answered, 0 before any
	peerBye    bool // the caller sent BYE
	byeSent    bool // we sent BYE (or are sending it)
	byeErr     error
	sess       media.Session
	lateOffer  bool           // the INVITE had no SDP: the ACK of our 200 carries the answer
	remoteCSeq uint32         // highest CSeq accepted from the caller in this dialog
	pending    *pendingAnswer // the re-INVITE being answered, until its 2xx is ACKed
	ackedReInv uint32         // CSeq of the last re-INVITE whose 2xx was ACKed (0: none)
	ackedShut  bool           // acked is closed

	// observe, when set, is told every phase change, in order, under mu: it must not block
	// or call back into the call (sipsvc's BLF publisher only enqueues; see blf.go). Set it
	// before the call is shared.
	observe func(from, to phase, final int)
}

// setPhaseLocked moves the call to p and tells the observer of a change. Call with mu held.
func (s *callState) setPhaseLocked(p phase) {
	if s.phase == p {
		return
	}
	from := s.phase
	s.phase = p
	if s.observe != nil {
		s.observe(from, p, s.final)
	}
}

// newCallState is the state of a call whose initial INVITE has CSeq inviteCSeq.
func newCallState(inviteCSeq uint32) *callState {
	s := new(callState)
	s.init(inviteCSeq)
	return s
}

// init makes s, unused yet, the state of a call whose initial INVITE has CSeq inviteCSeq.
func (s *callState) init(inviteCSeq uint32) {
	s.inviteCSeq, s.remoteCSeq, s.acked = inviteCSeq, inviteCSeq, make(chan struct{})
}

// answeredLocked reports whether a 200 OK was sent. Call with mu held.
func (s *callState) answeredLocked() bool { return s.final == 200 }

// unansweredLocked reports whether the call may still get its final answer. Call with mu held.
func (s *callState) unansweredLocked() bool {
	return s.phase == phaseOffered || s.phase == phaseEarly
}

// endedErrLocked is the error of an operation that needs an unanswered call in phase
// ending or ended. Call with mu held.
func (s *callState) endedErrLocked() error {
	if s.phase == phaseEnding && s.peerBye && !s.answeredLocked() {
		return ErrPeerHangup
	}
	return ErrCallEnded
}

// callSnapshot is a consistent copy of what the call's end and logs read.
type callSnapshot struct {
	phase   phase
	final   int
	peerBye bool
	byeSent bool
}

// snapshot returns the call's state at once.
func (s *callState) snapshot() callSnapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	return callSnapshot{phase: s.phase, final: s.final, peerBye: s.peerBye, byeSent: s.byeSent}
}

// answered reports whether the 200 OK has been sent (and the INVITE was not cancelled).
func (s *callState) answered() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.answeredLocked()
}

// media returns the call's media session, nil before one was opened.
func (s *callState) media() media.Session {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sess
}

// setMedia records the call's media session; late is true when the INVITE had no offer
// (the ACK of our 200 then carries the answer).
func (s *callState) setMedia(sess media.Session, late bool) {
	s.mu.Lock()
	s.sess, s.lateOffer = sess, late
	s.mu.Unlock()
}

// progress admits a provisional answer: skip is true on an answered call (nothing to send).
func (s *callState) progress() (skip bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.answeredLocked():
		return true, nil
	case !s.unansweredLocked():
		return false, s.endedErrLocked()
	}
	return false, nil
}

// progressSent records a provisional answer on the wire: offered -> early.
func (s *callState) progressSent() {
	s.mu.Lock()
	if s.phase == phaseOffered {
		s.setPhaseLocked(phaseEarly)
	}
	s.mu.Unlock()
}

// answer claims the 200 OK when claim is true (offered/early -> answered); with claim false
// it only reports whether answering could go ahead. already is true on an answered call.
func (s *callState) answer(claim bool) (already bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.answeredLocked():
		return true, nil
	case !s.unansweredLocked():
		return false, s.endedErrLocked()
	}
	if claim {
		s.final = 200
		s.setPhaseLocked(phaseAnswered)
	}
	return false, nil
}

// reject claims the final answer code (300-699): offered/early -> ended. The end transition
// takes it for an unanswered call (rejectLocked).
func (s *callState) reject(code int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rejectLocked(code)
}

// rejectLocked is reject with mu held.
func (s *callState) rejectLocked(code int) error {
	switch {
	case s.answeredLocked():
		return ErrAnswered
	case !s.unansweredLocked():
		return s.endedErrLocked()
	}
	s.final = code
	s.setPhaseLocked(phaseEnded)
	return nil
}

// cancel records a CANCEL sipgo answered (200 to the CANCEL, 487 to the INVITE): offered,
// early or answered (a 200 that never left) -> ended with 487. It reports whether the call
// moved.
func (s *callState) cancel() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.unansweredLocked() && s.phase != phaseAnswered {
		return false
	}
	s.final = 487
	s.setPhaseLocked(phaseEnded)
	return true
}

// peerHungUp reports whether the caller sent BYE.
func (s *callState) peerHungUp() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.peerBye
}

// repeatsInvite reports whether an INVITE without To tag and with CSeq cseq (same Call-ID
// and From tag as the call's) is the call's initial INVITE again: it is dropped.
func (s *callState) repeatsInvite(cseq uint32) bool { return cseq == s.inviteCSeq }

// inDialogRequest admits a request inside the dialog (BYE, INFO, OPTIONS) with CSeq cseq:
// lower than one already received fails with ErrStaleCSeq (answer 500), else it becomes
// the dialog's.
func (s *callState) inDialogRequest(method string, cseq uint32) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if cseq < s.remoteCSeq {
		return fmt.Errorf("%s CSeq %d after %d: %w", method, cseq, s.remoteCSeq, ErrStaleCSeq)
	}
	s.remoteCSeq = cseq
	return nil
}

// ackKind is what an ACK acknowledges.
type ackKind int

const (
	ackStray    ackKind = iota // nothing unacknowledged: a retransmission or a stray ACK
	ackInitial                 // the 200 to the initial INVITE: ReadAck, then confirm
	ackReInvite                // the pending re-INVITE's 2xx: handled by ack itself
)

// ack routes an ACK by its CSeq; answer is its SDP (readErr when unreadable). The ACK of the
// pending re-INVITE's 2xx releases it (and applies the answer our offer is due); the ACK of
// the initial 200 while unacknowledged is ackInitial, to be confirmed (confirm) once sipgo's
// dialog has read it. An error is an answer that is missing or refused: the call must end.
func (s *callState) ack(cseq uint32, answer []byte, readErr error) (ackKind, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p := s.pending; p != nil && p.cseq == cseq {
		s.pending, s.ackedReInv = nil, cseq
		var err error
		if p.answerDue {
			err = s.applyAnswerLocked(answer, readErr)
		}
		close(p.acked)
		return ackReInvite, err
	}
	if s.phase == phaseAnswered && cseq == s.inviteCSeq {
		return ackInitial, nil
	}
	return ackStray, nil
}

// confirm records the ACK of the initial 200 OK: answered -> confirmed. A late-offer call
// applies the answer the ACK carries first, so a re-INVITE waiting for this ACK never hands
// its offer to a session still awaiting the answer. A repeated ACK does nothing. An error
// is an answer that is missing or refused: the call must end.
func (s *callState) confirm(answer []byte, readErr error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.phase != phaseAnswered {
		return nil
	}
	var err error
	if s.lateOffer {
		err = s.applyAnswerLocked(answer, readErr)
	}
	s.setPhaseLocked(phaseConfirmed)
	s.closeAckedLocked()
	return err
}

// closeAckedLocked closes acked once. Call with mu held.
func (s *callState) closeAckedLocked() {
	if !s.ackedShut {
		s.ackedShut = true
		close(s.acked)
	}
}

// endSetup closes acked when the call's goroutine is done and the initial 200 was never
// acknowledged (no 200, or no ACK), so startCall's handler, waiting on acked alone, returns.
// The call is over (ended, its context cancelled): nothing else waits on acked then.
func (s *callState) endSetup() {
	s.mu.Lock()
	s.closeAckedLocked()
	s.mu.Unlock()
}

// applyAnswerLocked applies the SDP answer an ACK must carry to the session. Call with mu held.
func (s *callState) applyAnswerLocked(answer []byte, readErr error) error {
	if s.sess == nil {
		return nil
	}
	err := readErr
	if err == nil && len(answer) == 0 {
		err = ErrNoAnswer
	}
	if err == nil {
		if _, err = s.sess.SetRemote(answer); err != nil {
			err = fmt.Errorf("%w: %w", ErrNoAnswer, err)
		}
	}
	return err
}

// reoffer admits a re-INVITE with CSeq cseq and SDP offer (nil: it asks for our offer, whose
// answer is then due in its ACK) and applies the offer to the media session. On success it
// returns the pending answer (released by its ACK, or by endReoffer) and the SDP of our 200.
// While the initial 200 or the previous re-INVITE's awaits its ACK it returns wait, closed by
// that ACK: wait and call again. Refusals: see the table on callState.
func (s *callState) reoffer(cseq uint32, offer []byte) (p *pendingAnswer, body []byte, wait <-chan struct{}, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if cseq == s.ackedReInv {
		return nil, nil, nil, errReInviteRepeat
	}
	if cseq < s.remoteCSeq {
		return nil, nil, nil, fmt.Errorf("INVITE CSeq %d after %d: %w", cseq, s.remoteCSeq, ErrStaleCSeq)
	}
	switch s.phase {
	case phaseOffered, phaseEarly:
		return nil, nil, nil, fmt.Errorf("re-INVITE in an early dialog: %w", errInvitePending)
	case phaseEnding, phaseEnded:
		return nil, nil, nil, fmt.Errorf("re-INVITE: %w", ErrCallEnded)
	case phaseAnswered:
		return nil, nil, s.acked, nil
	}
	if s.pending != nil {
		return nil, nil, s.pending.acked, nil
	}
	s.remoteCSeq = cseq
	if s.sess == nil {
		return nil, nil, nil, errNoSession
	}
	body, err = s.sess.SetRemote(offer)
	if err != nil {
		return nil, nil, nil, err
	}
	p = &pendingAnswer{cseq: cseq, answerDue: len(offer) == 0, acked: make(chan struct{})}
	s.pending = p
	return p, body, nil, nil
}

// endReoffer forgets p as the dialog's pending answer: its 2xx was never acknowledged or
// never sent (the handler then ends the call), or the call ended first.
func (s *callState) endReoffer(p *pendingAnswer) {
	s.mu.Lock()
	if s.pending == p {
		s.pending = nil
	}
	s.mu.Unlock()
}

// byeAction is what the BYE handler does with a BYE from the caller.
type byeAction int

const (
	byeNoDialog byeAction = iota // 481: the call ended without a dialog
	byeEarly                     // 200 to the BYE; the INVITE gets 487 when the call ends
	byeDialog                    // sipgo's ReadBye answers 200 and ends the dialog
)

// byeIn records a BYE from the caller (its CSeq already admitted): -> ending.
func (s *callState) byeIn() byeAction {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.answeredLocked():
		s.peerBye = true
		if s.phase != phaseEnded {
			s.setPhaseLocked(phaseEnding)
		}
		return byeDialog
	case s.phase == phaseEnded:
		return byeNoDialog
	}
	// Under the lock, so answer refuses from now on: the INVITE gets 487, not a 200.
	s.peerBye = true
	s.setPhaseLocked(phaseEnding)
	return byeEarly
}

// byeNotAnswered undoes byeIn's record of the caller's BYE in a dialog when sipgo could not
// answer it: the call's end then sends our own BYE.
func (s *callState) byeNotAnswered() {
	s.mu.Lock()
	s.peerBye = false
	s.mu.Unlock()
}

// byeOut claims our BYE on an answered call: send is true once, unless the caller hung up
// first; later calls return the first BYE's result (byeDone).
func (s *callState) byeOut() (send bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.answeredLocked() {
		return false, ErrNotAnswered
	}
	if s.peerBye || s.byeSent {
		return false, s.byeErr
	}
	s.byeSent = true
	if s.phase != phaseEnded {
		s.setPhaseLocked(phaseEnding)
	}
	return true, nil
}

// byeDone records the result of our BYE.
func (s *callState) byeDone(err error) {
	s.mu.Lock()
	s.byeErr = err
	s.mu.Unlock()
}

// endAction is what the call's end does.
type endAction int

const (
	endNone      endAction = iota // nothing left to send
	endRespond                    // send the final answer end returned
	endCancelled                  // sipgo answered the CANCEL and the INVITE (487): count it
	endBye                        // send BYE (byeOut), then close
)

// end decides how a call ends once its dialplan returned. cancelled reports a CANCEL sipgo
// answered; code is the final answer the dialplan's outcome deserves, for an unanswered
// call. It returns the action and the final status.
func (s *callState) end(cancelled bool, code int) (endAction, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.unansweredLocked() && cancelled:
		s.final = 487
		s.setPhaseLocked(phaseEnded)
		return endCancelled, 487
	case s.unansweredLocked():
		_ = s.rejectLocked(code) // cannot fail: the call is unanswered
		return endRespond, code
	case s.phase == phaseEnding && !s.answeredLocked():
		// The caller's BYE in the early dialog (RFC 3261 15.1.2): the BYE got 200, the
		// INVITE gets 487.
		s.final = 487
		s.setPhaseLocked(phaseEnded)
		return endRespond, 487
	case s.answeredLocked() && !s.peerBye && !s.byeSent:
		return endBye, s.final
	}
	s.setPhaseLocked(phaseEnded)
	return endNone, s.final
}

// close ends the call for good: -> ended.
func (s *callState) close() {
	s.mu.Lock()
	s.setPhaseLocked(phaseEnded)
	s.mu.Unlock()
}

// byeWasSent reports whether we sent BYE (the dialog's end is then ours).
func (s *callState) byeWasSent() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.byeSent
}
