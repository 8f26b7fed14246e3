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

// ackGrace is how long a re-INVITE waits for the ACK of the previous 2xx before it is
// answered 500: sipgo hands each message to its own goroutine, so an ACK sent just before a
// re-INVITE may be processed just after it.
const ackGrace = 250 * time.Millisecond

// retryAfterMax is the upper bound (seconds) of the random Retry-After of a 500 answered to
// an overlapping re-INVITE (RFC 3261 14.2).
const retryAfterMax = 10

// admitReInvite admits a re-INVITE through the state machine's reoffer transition, waiting
// up to ackGrace for the ACK of a previous 2xx it must follow. It returns the pending answer
// and the SDP of our 200, or the refusal: ErrStaleCSeq, errReInviteRepeat, errInvitePending
// (early dialog, or no ACK within the grace), ErrCallEnded, errNoSession, or the media
// session's error for the offer.
func (c *call) admitReInvite(cseq uint32, offer []byte) (*pendingAnswer, []byte, error) {
	grace := time.NewTimer(ackGrace)
	defer grace.Stop()
	graceOver := false
	for {
		p, body, wait, err := c.st.reoffer(cseq, offer)
		if wait == nil {
			return p, body, err
		}
		if graceOver {
			return nil, nil, fmt.Errorf("re-INVITE before the previous 2xx was acknowledged: %w", errInvitePending)
		}
		select {
		case <-wait:
		case <-grace.C:
			graceOver = true
		case <-c.ctx.Done():
			return nil, nil, fmt.Errorf("re-INVITE: %w", ErrCallEnded)
		}
	}
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
	// A re-INVITE without SDP asks for our offer (SetRemote(nil)); its answer is due in the ACK.
	p, body, err := c.admitReInvite(req.CSeq().SeqNo, offer)
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
	case errors.Is(err, ErrCallEnded):
		s.respond(req, tx, sip.StatusCallTransactionDoesNotExists, "")
		return
	case errors.Is(err, errNoSession):
		s.respond(req, tx, sip.StatusNotAcceptableHere, "")
		return
	case err != nil:
		code, reason := sipstatus.Of(err)
		c.logger().Warn("re-INVITE offer refused", "status", code, "error", err)
		s.respond(req, tx, code, reason)
		return
	}

	res := sip.NewResponseFromRequest(req, sip.StatusOK, "OK", body)
	res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	res.AppendHeader(sip.HeaderClone(&c.ua.ContactHDR))
	res.AppendHeader(c.s.allowHeader())
	res.AppendHeader(c.s.fixed.supported)
	s.decorate(res)
	c.logger().Info("re-INVITE accepted", "offer", len(offer) > 0)
	err = c.respondUntilAck(tx, res, p.acked)
	switch {
	case err == nil:
		// Acknowledged: end the transaction now rather than at Timer L (32 s). A
		// retransmission of this re-INVITE is then dropped by the reoffer transition
		// (errReInviteRepeat), as the transaction would have absorbed it.
		tx.Terminate()
	case c.ctx.Err() != nil:
		// The call ended first (BYE, drain, media): nothing more to do.
		c.st.endReoffer(p)
		c.logger().Debug("re-INVITE answer stopped", "error", err)
	case errors.Is(err, ErrNoACK):
		c.st.endReoffer(p)
		s.stats.noACK.Add(1)
		c.logger().Warn("200 OK to re-INVITE never acknowledged: ending the call with BYE",
			"ack_timeout", s.cfg.ACKTimeout.String())
		c.cancel(ErrNoACK)
	default:
		// The 200 never left (a dropped connection): the media session already took the
		// offer (or made one that awaits an answer), so the call cannot carry on half
		// changed. It ends with BYE, counted as NoACK like an initial 200 that failed.
		c.st.endReoffer(p)
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
