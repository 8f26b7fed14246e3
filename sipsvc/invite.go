package sipsvc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"runtime/debug"
	"strings"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/sidecar-voip/sidecar/dialplan"
	"github.com/sidecar-voip/sidecar/identify"
	"github.com/sidecar-voip/sidecar/internal/sipstatus"
	"github.com/sidecar-voip/sidecar/profile"
	"github.com/sidecar-voip/sidecar/request"
)

// noFinalCode answers a call whose dialplan ended without answering or rejecting it, as
// Asterisk does for an unanswered channel hung up with a normal clearing cause.
const noFinalCode = 603

// handleInvite runs one incoming call from the first packet to its end; the handler returns
// when the call is over. Order: trust, Require (420), re-INVITE dispatch, a retransmission
// of a live call's INVITE (dropped), body (415), drain, max-calls, 100 Trying, then the call
// (see runCall).
func (s *Server) handleInvite(req *sip.Request, tx sip.ServerTransaction) {
	src, ok := s.trusted(req, tx)
	if !ok {
		return
	}
	if s.refuseRequire(req, tx) {
		return
	}
	if toTag(req) != "" {
		s.handleReInvite(req, tx)
		return
	}
	if s.dialogs.retransmission(req) {
		// The call's INVITE transaction ended at the ACK (see call.ackReceived), so sipgo
		// no longer absorbs this repeat: drop it, as that transaction would have, rather
		// than start a second call. The caller has the 200 already (it sent the ACK).
		s.stats.inviteRetrans.Add(1)
		s.log.Debug("INVITE retransmission after ACK dropped", "call_id", callIDOf(req))
		tx.Terminate()
		return
	}
	offer, ok := s.readSDP(req, tx)
	if !ok {
		return
	}
	if s.draining.Load() {
		s.log.Info("INVITE refused: draining", "call_id", callIDOf(req), "source", src.String())
		s.respond(req, tx, sip.StatusServiceUnavailable, "", retryAfter(retryAfterBusy))
		return
	}
	if !s.limit.acquire() {
		s.log.Warn("INVITE refused: max-calls reached", "call_id", callIDOf(req), "source", src.String(),
			"max_calls", s.cfg.MaxCalls)
		s.respond(req, tx, sip.StatusServiceUnavailable, "", retryAfter(retryAfterBusy))
		return
	}
	defer s.limit.release()
	s.stats.callsTotal.Add(1)
	s.respond(req, tx, 100, "") // at once: stops the caller's retransmissions
	s.runCall(req, tx, src, offer)
}

// runCall creates the dialog and the call, routes it, and ends it. offer is the INVITE's
// SDP (nil for a late offer).
func (s *Server) runCall(req *sip.Request, tx sip.ServerTransaction, src netip.AddrPort, offer []byte) {
	log := s.log.With("call_id", callIDOf(req), "source", src.String(),
		"transport", strings.ToLower(req.Transport()))
	contact := s.contactFor(req, tx)
	dua := &sipgo.DialogUA{Client: s.client, ContactHDR: contact}
	dlg, err := dua.ReadInvite(req, tx)
	if err != nil {
		log.Warn("INVITE refused: cannot start a dialog", "error", err)
		s.respond(req, tx, sip.StatusBadRequest, "")
		return
	}
	c := &call{
		s: s, sipReq: req, tx: tx, dlg: dlg, contact: contact, src: src,
		start: time.Now(), log: log, acked: make(chan struct{}),
		offer: offer, inviteCSeq: req.CSeq().SeqNo, remoteCSeq: req.CSeq().SeqNo,
	}
	c.ctx, c.cancel = context.WithCancelCause(s.hangupCtx)
	defer c.cancel(nil)
	defer c.limitDuration(time.Duration(s.maxDuration.Load()))()
	stop := context.AfterFunc(dlg.Context(), func() {
		if c.byeSent.Load() {
			c.cancel(errLocalHangup)
			return
		}
		c.cancel(ErrPeerHangup)
	})
	defer stop()
	s.dialogs.add(dlg.ID, c)
	defer s.dialogs.remove(dlg.ID)
	s.dialogs.addInvite(req, c)
	defer s.dialogs.removeInvite(req, c)
	defer c.closeMedia()

	trace, err := c.safeRoute()
	c.finish(trace, err)
}

// safeRoute is route with panic recovery, so a panicking identifier, template or dialplan
// application still gets its call ended properly: 500 when unanswered, BYE when answered.
func (c *call) safeRoute() (trace dialplan.Trace, err error) {
	defer func() {
		if r := recover(); r != nil {
			c.s.stats.panics.Add(1)
			c.logger().Error("call panic", "panic", r, "stack", string(debug.Stack()))
			err = sipstatus.Newf(500, "panic: %v", r)
		}
	}()
	return c.route()
}

// route identifies the call, builds its profiles and runs the dialplan.
func (c *call) route() (dialplan.Trace, error) {
	s := c.s
	transport := strings.ToLower(c.sipReq.Transport())
	r, err := request.FromSIP(c.sipReq, c.src, transport)
	if err != nil {
		return nil, sipstatus.New(400, err)
	}
	c.req = r
	if s.opts.Chain == nil || s.opts.Templates == nil || s.opts.Plan == nil {
		return nil, sipstatus.New(500, errors.New("service has no identifier chain, templates or dialplan"))
	}
	res, err := s.opts.Chain.Identify(c.ctx, r)
	if err != nil {
		return nil, fmt.Errorf("identify: %w", identify.Answer(err, s.cfg.NoMatchCode))
	}
	c.setLogger(c.logger().With("identifier", res.Identifier,
		"caller_template", res.Caller.Name, "callee_template", res.Callee.Name))
	if c.caller, err = s.build(res.Caller, profile.RoleCaller, r); err != nil {
		return nil, err
	}
	if c.callee, err = s.build(res.Callee, profile.RoleCallee, r); err != nil {
		return nil, err
	}
	dpContext := dialplan.ContextFor(c.caller, c.callee, s.cfg.DefaultContext)
	exten := c.sipReq.Recipient.User
	c.setLogger(c.logger().With("context", dpContext, "exten", exten))
	c.logger().Debug("call routed")
	return s.opts.Plan.Run(c.ctx, c, dpContext, exten, c.logger())
}

// build builds one party's profile; a party without a template gets nil. A failure is
// answered 500 "Server Internal Error": the templates, not the caller, are at fault. The
// error names the template and what failed, never header values.
func (s *Server) build(m profile.Match, role profile.Role, r *request.Request) (*profile.Profile, error) {
	if m.Name == "" {
		return nil, nil
	}
	p, err := s.opts.Templates.Build(m, role, r)
	if err != nil {
		return nil, sipstatus.Newf(500, "build %s profile from template %s: %w", role, m.Name, err)
	}
	return p, nil
}

// finish gives an unanswered call its final answer (from err, see answer), hangs up an
// answered call the caller has not hung up, and logs one line for the call.
func (c *call) finish(trace dialplan.Trace, err error) {
	c.mu.Lock()
	st := c.state
	c.mu.Unlock()
	cause := context.Cause(c.ctx)
	switch st {
	case stateNew, stateEarly:
		if c.peerBye.Load() {
			// BYE in the early dialog (RFC 3261 15.1.2): the BYE got 200, the INVITE gets 487.
			c.answer(sipstatus.New(sip.StatusRequestTerminated, ErrPeerHangup))
			break
		}
		if errors.Is(context.Cause(c.dlg.Context()), sip.ErrTransactionCanceled) {
			// sipgo answered the CANCEL (200) and the INVITE (487).
			c.mu.Lock()
			c.state, c.final = stateFinal, sip.StatusRequestTerminated
			c.mu.Unlock()
			c.s.stats.reject(sip.StatusRequestTerminated)
			break
		}
		// A cancelled call (drain) is answered for its cause, not for the context error
		// the dialplan returned.
		why := err
		if cause != nil {
			why = cause
		}
		c.answer(why)
	case stateAnswered:
		if !c.peerBye.Load() {
			_ = c.bye()
		}
	}
	c.logEnd(trace, err, cause)
}

// logEnd writes the one summary line of a call.
func (c *call) logEnd(trace dialplan.Trace, err, cause error) {
	c.mu.Lock()
	final := c.final
	c.mu.Unlock()
	attrs := []any{
		"status", final,
		"dialplan", trace.Brief(), // steps without arguments: those are logged at Debug only
		"duration", time.Since(c.start).Round(time.Millisecond).String(),
	}
	switch {
	case c.peerBye.Load():
		attrs = append(attrs, "ended_by", "caller")
	case c.byeSent.Load():
		attrs = append(attrs, "ended_by", "sidecar")
	case final == sip.StatusRequestTerminated:
		attrs = append(attrs, "ended_by", "cancel")
	}
	if cause != nil && !errors.Is(cause, context.Canceled) {
		attrs = append(attrs, "cause", cause.Error())
	}
	// A call that ended on an error is a warning (a template header naming no template, a
	// failing application, a missing ACK), except the ordinary outcomes: no identifier
	// matched, or the caller hung up.
	level := slog.LevelInfo
	// The dialplan ending the call on purpose (Busy, Hangup(cause), Transfer) is no error.
	if err != nil && !errors.Is(err, ErrPeerHangup) && !errors.Is(err, errLocalHangup) &&
		!errors.Is(err, dialplan.ErrEnded) {
		attrs = append(attrs, "error", err.Error())
		if !errors.Is(err, identify.ErrNoMatch) && !errors.Is(err, context.Canceled) {
			level = slog.LevelWarn
		}
	}
	c.logger().Log(context.Background(), level, "call ended", attrs...)
}

// contactFor is the Contact of our answers to req: the local address the request arrived
// on, with its transport. A listener on a wildcard address uses the Request-URI's host.
func (s *Server) contactFor(req *sip.Request, tx sip.ServerTransaction) sip.ContactHeader {
	var local netip.AddrPort
	if co, ok := tx.(interface{ Connection() sip.Connection }); ok && co.Connection() != nil {
		local = addrPortOf(co.Connection().LocalAddr())
	}
	uri := sip.Uri{Scheme: "sip", Host: local.Addr().Unmap().String(), Port: int(local.Port())}
	if !local.IsValid() || local.Addr().IsUnspecified() {
		uri.Host, uri.Port = req.Recipient.Host, req.Recipient.Port
		if local.IsValid() {
			uri.Port = int(local.Port())
		}
	}
	if tp := strings.ToLower(req.Transport()); tp != "udp" {
		uri.UriParams = sip.NewParams()
		uri.UriParams.Add("transport", tp)
	}
	return sip.ContactHeader{Address: uri}
}
