package sipsvc

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/sidecar-voip/sidecar/internal/sipstatus"
)

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

// ackGrace is how long a re-INVITE waits for the ACK of the previous 2xx before it is
// answered 500: sipgo hands each message to its own goroutine, so an ACK sent just before a
// re-INVITE may be processed just after it.
const ackGrace = 250 * time.Millisecond

// retryAfterMax is the upper bound (seconds) of the random Retry-After of a 500 answered to
// an overlapping re-INVITE (RFC 3261 14.2).
const retryAfterMax = 10

// pendingAnswer is a re-INVITE being answered: from its arrival until the ACK of its 2xx.
type pendingAnswer struct {
	cseq      uint32
	answerDue bool          // our 200 carries an offer: the ACK must carry the answer
	acked     chan struct{} // closed by the matching ACK
}

// readRequest checks an in-dialog request's CSeq against the dialog's: lower than one
// already received fails with ErrStaleCSeq (answer 500), else it becomes the dialog's.
func (c *call) readRequest(req *sip.Request) error {
	cseq := req.CSeq().SeqNo
	c.mu.Lock()
	defer c.mu.Unlock()
	if cseq < c.remoteCSeq {
		return fmt.Errorf("%s CSeq %d after %d: %w", req.Method, cseq, c.remoteCSeq, ErrStaleCSeq)
	}
	c.remoteCSeq = cseq
	return nil
}

// beginReInvite admits a re-INVITE with CSeq cseq: it fails with ErrStaleCSeq for a CSeq
// lower than the dialog's, errInvitePending while the initial INVITE is unanswered or a
// previous INVITE's 2xx awaits its ACK (after waiting ackGrace for that ACK), and
// ErrCallEnded once the call has ended. On success the re-INVITE is the dialog's pending
// answer until its ACK (or endReInvite).
func (c *call) beginReInvite(cseq uint32) (*pendingAnswer, error) {
	grace := time.NewTimer(ackGrace)
	defer grace.Stop()
	graceOver := false
	for {
		c.mu.Lock()
		if cseq == c.ackedReInv {
			c.mu.Unlock()
			return nil, errReInviteRepeat
		}
		if cseq < c.remoteCSeq {
			c.mu.Unlock()
			return nil, fmt.Errorf("INVITE CSeq %d after %d: %w", cseq, c.remoteCSeq, ErrStaleCSeq)
		}
		switch c.state {
		case stateNew, stateEarly:
			c.mu.Unlock()
			return nil, fmt.Errorf("re-INVITE in an early dialog: %w", errInvitePending)
		case stateFinal:
			c.mu.Unlock()
			return nil, fmt.Errorf("re-INVITE: %w", ErrCallEnded)
		}
		var wait <-chan struct{}
		if c.pending != nil {
			wait = c.pending.acked
		} else if ch, ok := c.initialAckPending(); ok {
			wait = ch
		}
		if wait == nil {
			c.remoteCSeq = cseq
			p := &pendingAnswer{cseq: cseq, acked: make(chan struct{})}
			c.pending = p
			c.mu.Unlock()
			return p, nil
		}
		c.mu.Unlock()
		if graceOver {
			return nil, fmt.Errorf("re-INVITE before the previous 2xx was acknowledged: %w", errInvitePending)
		}
		select {
		case <-wait:
		case <-grace.C:
			graceOver = true
		case <-c.ctx.Done():
			return nil, fmt.Errorf("re-INVITE: %w", ErrCallEnded)
		}
	}
}

// endReInvite forgets p as the dialog's pending answer (an error answer, which sipgo's
// transaction acknowledges by itself, or an answer that was never acknowledged).
func (c *call) endReInvite(p *pendingAnswer) {
	c.mu.Lock()
	if c.pending == p {
		c.pending = nil
	}
	c.mu.Unlock()
}

// handleReInvite answers an INVITE inside a dialog (RFC 3261 14.2): 200 OK with the media
// session's answer to the new offer (hold, resume, new address), or with a fresh offer when
// the re-INVITE has none (the answer is then due in the ACK). The 200 is retransmitted
// until its ACK; without one within ack-timeout the call ends with BYE. 481 for an unknown
// dialog; 500 for a stale CSeq, and 500 with Retry-After for a re-INVITE overlapping the
// initial INVITE or an unacknowledged 2xx; 415 for a body that is not SDP; the media
// plane's status (488) for an offer it refuses.
func (s *Server) handleReInvite(req *sip.Request, tx sip.ServerTransaction) {
	c := s.dialogs.match(req)
	if c == nil {
		s.respond(req, tx, sip.StatusCallTransactionDoesNotExists, "")
		return
	}
	offer, ok := s.readSDP(req, tx)
	if !ok {
		return
	}
	p, err := c.beginReInvite(req.CSeq().SeqNo)
	switch {
	case errors.Is(err, errReInviteRepeat):
		c.logger().Debug("re-INVITE retransmission after ACK dropped", "cseq", req.CSeq().SeqNo)
		s.stats.inviteRetrans.Add(1)
		tx.Terminate()
		return
	case errors.Is(err, ErrStaleCSeq):
		c.logger().Info("re-INVITE refused", "status", 500, "error", err)
		s.respond(req, tx, sip.StatusInternalServerError, "")
		return
	case errors.Is(err, errInvitePending):
		c.logger().Info("re-INVITE refused", "status", 500, "error", err)
		s.respond(req, tx, sip.StatusInternalServerError, "", retryAfter(rand.IntN(retryAfterMax+1)))
		return
	case err != nil:
		s.respond(req, tx, sip.StatusCallTransactionDoesNotExists, "")
		return
	}
	sess := c.Media()
	if sess == nil {
		c.endReInvite(p)
		s.respond(req, tx, sip.StatusNotAcceptableHere, "")
		return
	}
	// A re-INVITE without SDP asks for our offer (SetRemote(nil)); its answer is due in the ACK.
	c.sdpMu.Lock()
	body, err := sess.SetRemote(offer)
	if err == nil {
		c.mu.Lock()
		p.answerDue = len(offer) == 0
		c.mu.Unlock()
	}
	c.sdpMu.Unlock()
	if err != nil {
		c.endReInvite(p)
		code, reason := sipstatus.Of(err)
		c.logger().Warn("re-INVITE offer refused", "status", code, "error", err)
		s.respond(req, tx, code, reason)
		return
	}

	res := sip.NewResponseFromRequest(req, sip.StatusOK, "OK", body)
	res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	res.AppendHeader(sip.HeaderClone(&c.contact))
	res.AppendHeader(allowHeader())
	res.AppendHeader(supportedHeader())
	s.decorate(res)
	c.logger().Info("re-INVITE accepted", "offer", len(offer) > 0)
	err = c.respondUntilAck(tx, res, p.acked)
	switch {
	case err == nil:
		// Acknowledged: end the transaction now rather than at Timer L (32 s). A
		// retransmission of this re-INVITE is then dropped by beginReInvite
		// (errReInviteRepeat), as the transaction would have absorbed it.
		tx.Terminate()
	case c.ctx.Err() != nil:
		// The call ended first (BYE, drain, media): nothing more to do.
		c.endReInvite(p)
		c.logger().Debug("re-INVITE answer stopped", "error", err)
	case errors.Is(err, ErrNoACK):
		c.endReInvite(p)
		s.stats.noACK.Add(1)
		c.logger().Warn("200 OK to re-INVITE never acknowledged: ending the call with BYE",
			"ack_timeout", s.cfg.ACKTimeout.String())
		c.cancel(ErrNoACK)
	default:
		// The 200 never left (a dropped connection): the media session already took the
		// offer (or made one that awaits an answer), so the call cannot carry on half
		// changed. It ends with BYE, counted as NoACK like an initial 200 that failed.
		c.endReInvite(p)
		s.stats.noACK.Add(1)
		c.logger().Warn("200 OK to re-INVITE not sent: ending the call with BYE", "error", err)
		c.cancel(fmt.Errorf("re-INVITE: %w", err))
	}
}

// respondUntilAck sends the 2xx res within tx and retransmits it, at T1 doubling up to T2,
// until acked is closed (RFC 3261 13.3.1.4: sipgo's Accepted state neither retransmits a
// 2xx nor passes INVITE retransmissions up). It fails with ErrNoACK after ack-timeout, with
// the call's cause when the call ends first, and with the send error when the first send
// fails. A failed retransmission (sipgo ends the transaction at Timer L, 64*T1, so a longer
// ack-timeout outlives it) stops the retransmissions, not the wait for the ACK: the ACK
// reaches the ACK handler without the transaction.
func (c *call) respondUntilAck(tx sip.ServerTransaction, res *sip.Response, acked <-chan struct{}) error {
	if err := tx.Respond(res); err != nil {
		return fmt.Errorf("send 2xx: %w", err)
	}
	interval := sip.T1
	retransmit := time.NewTimer(interval)
	defer retransmit.Stop()
	timeout := time.NewTimer(c.s.cfg.ACKTimeout)
	defer timeout.Stop()
	for {
		select {
		case <-acked:
			return nil
		case <-retransmit.C:
			if err := tx.Respond(res); err != nil {
				c.logger().Debug("2xx retransmissions stopped; still waiting for the ACK", "error", err)
				continue // the timer stays stopped
			}
			interval = min(2*interval, sip.T2)
			retransmit.Reset(interval)
		case <-timeout.C:
			return ErrNoACK
		case <-c.ctx.Done():
			return context.Cause(c.ctx)
		}
	}
}

// ackMatched routes an ACK by its CSeq: the ACK of the pending re-INVITE's 2xx, or of the
// initial INVITE's 2xx while that is unacknowledged (whatever in-dialog request came in
// meanwhile). It reports false for any other ACK (a retransmission, a stray one).
//
// The answer an ACK carries is applied under sdpMu, taken before the pending re-INVITE is
// released: a re-INVITE admitted after that release waits on sdpMu for the answer before
// its own SetRemote.
func (c *call) ackMatched(ack *sip.Request, readAck func() error) bool {
	cseq := ack.CSeq().SeqNo
	c.sdpMu.Lock()
	c.mu.Lock()
	if p := c.pending; p != nil && p.cseq == cseq {
		c.pending = nil
		c.ackedReInv = cseq
		due := p.answerDue
		c.mu.Unlock()
		if due {
			c.applyAckAnswer(ack, "re-INVITE")
		}
		c.sdpMu.Unlock()
		close(p.acked)
		return true
	}
	c.sdpMu.Unlock()
	_, initial := c.initialAckPending()
	c.mu.Unlock()
	if !initial || cseq != c.inviteCSeq {
		return false
	}
	if err := readAck(); err != nil {
		c.logger().Debug("ACK not for the initial INVITE", "error", err)
		return false
	}
	c.ackReceived(ack)
	// The INVITE transaction has done its work: sipgo would keep it (RFC 6026 Accepted)
	// until Timer L, 64*T1 = 32 s, only to absorb INVITE retransmissions, which
	// handleInvite now drops itself. Terminate sends nothing and leaves the dialog as is.
	// (sipgo v1.7.3 does not stop Timer L on Terminate: the transaction object stays
	// reachable from that timer until it fires, but is out of the transaction layer.)
	c.tx.Terminate()
	return true
}

// applyAckAnswer applies the SDP answer an ACK must carry (our 200 to what carried an
// offer). A missing, unreadable or refused answer ends the call with BYE (RFC 3261 13.2.1).
// Call with c.sdpMu held.
func (c *call) applyAckAnswer(ack *sip.Request, what string) {
	sess := c.Media()
	if sess == nil {
		return
	}
	answer, err := sdpOf(ack)
	if err == nil && len(answer) == 0 {
		err = ErrNoAnswer
	}
	if err == nil {
		if _, err = sess.SetRemote(answer); err != nil {
			err = fmt.Errorf("%w: %w", ErrNoAnswer, err)
		}
	}
	if err != nil {
		c.logger().Warn("our SDP offer got no usable answer in the ACK: ending the call", "to", what, "error", err)
		c.cancel(fmt.Errorf("ACK of %s: %w", what, err))
	}
}
