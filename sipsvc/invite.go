package sipsvc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/sidecar-voip/sidecar/dialplan"
	"github.com/sidecar-voip/sidecar/identify"
	"github.com/sidecar-voip/sidecar/internal/lazylog"
	"github.com/sidecar-voip/sidecar/internal/shallow"
	"github.com/sidecar-voip/sidecar/internal/sipstatus"
	"github.com/sidecar-voip/sidecar/request"
	"github.com/sidecar-voip/sidecar/routing"
)

// noFinalCode answers a call whose dialplan ended without answering or rejecting it, as
// Asterisk does for an unanswered channel hung up with a normal clearing cause.
const noFinalCode = 603

// handleInvite runs one incoming call from the first packet to its end; the handler returns
// once the call's final answer is out (a 200 OK: once acknowledged), the call going on on a
// goroutine of its own (startCall). Order: trust, Require (420), re-INVITE dispatch, a
// retransmission of a live call's INVITE (dropped), body (415), drain, max-calls, then the
// call (see runCall), with a 100 Trying only if no response went out within 200 ms
// (trying.go). Overload control refused already, before any transaction (overload.go).
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
		// The call's INVITE transaction ended at the ACK (see call.ackInvite), so sipgo
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
			"max_calls", s.limit.max.Load())
		s.respond(req, tx, sip.StatusServiceUnavailable, "", retryAfter(retryAfterBusy))
		return
	}
	s.stats.callsTotal.Add(1)
	// 100 Trying only when no other response goes out within 200 ms of the INVITE's
	// arrival (trying.go): an echo or busy call answers in about a millisecond.
	// The call's state, its 100 Trying wrapper and startCall's arguments: one allocation.
	cs := &callStart{s: s, req: req, src: src, offer: offer}
	cs.st.init(req.CSeq().SeqNo)
	cs.ttx = tryingTx{ServerTransaction: tx, req: req, due: s.inviteArrival(req).Add(tryingAfter - tryingLead), s: s}
	ttx := &cs.ttx
	defer ttx.done() // the final answer is out: no 100 after it
	if !s.trying.add(ttx, time.Now()) {
		ttx.trying() // already due (a node behind), or the queue is full: at once
	}
	cs.startCall() // releases the max-calls slot when the call is over
}

// runCall creates the dialog and the call, routes it, and ends it. offer is the INVITE's
// SDP (nil for a late offer); st is the call's state, made by startCall (which waits on its
// acked channel). The call's
// goroutine waits in runCall as long as the call lasts: the setup and the end run in
// helpers, so its frame, and the goroutine's stack, stay small.
func (s *Server) runCall(req *sip.Request, tx sip.ServerTransaction, src netip.AddrPort, offer []byte,
	st *callState) {
	c := s.newCall(req, tx, src, offer, st)
	if c == nil {
		return
	}
	var trace dialplan.Trace
	defer func() { c.teardown(trace) }()
	trace, err := c.safeRoute()
	c.finish(trace, err)
}

// newCall creates the dialog and the call of req, in state st, and registers it; nil when
// no dialog can be started (answered 400).
//
//go:noinline
func (s *Server) newCall(req *sip.Request, tx sip.ServerTransaction, src netip.AddrPort, offer []byte,
	st *callState) *call {
	dua := s.dialogUA(req, tx)
	dlg, err := dua.ReadInvite(req, tx)
	if err != nil {
		c := &call{s: s, sipReq: req, src: src}
		c.logger().Warn("INVITE refused: cannot start a dialog", "error", err)
		s.respond(req, tx, sip.StatusBadRequest, "")
		return nil
	}
	// The call's logger is made on first use (logger), or by routing with its own attributes.
	c := &call{
		s: s, sipReq: req, tx: tx, dlg: dlg, ua: dua, src: src,
		start: time.Now(), offer: offer, st: st,
	}
	c.st.observe = s.blf.observer(c)
	c.ctx, c.cancel = context.WithCancelCause(s.hangupCtx)
	c.limitDuration(time.Duration(s.maxDuration.Load()))
	// The dialog's end (the caller's BYE, ours answered, a CANCEL) cancels the call's
	// context: told by the dialog's state callback, called when its context is cancelled
	// (no context.AfterFunc and its registration per call). The callback cannot be removed
	// and the dialog outlives the call (sipgo's INVITE transaction keeps it until Timer
	// L), so it reaches the call through watch, which teardown clears.
	watch := new(atomic.Pointer[call])
	watch.Store(c)
	c.watch = watch
	dlg.OnState(func(st sip.DialogState) {
		c := watch.Load()
		if st != sip.DialogStateEnded || c == nil {
			return
		}
		if c.st.byeWasSent() {
			c.cancel(errLocalHangup)
			return
		}
		c.cancel(ErrPeerHangup)
	})
	s.dialogs.add(dlg.ID, c)
	s.dialogs.addInvite(req, c)
	return c
}

// teardown undoes newCall once the call has finished: the media closed, then the call
// recorded (ended), then the call forgotten and its timers and context released.
//
//go:noinline
func (c *call) teardown(trace dialplan.Trace) {
	s := c.s
	defer c.cancel(nil)
	defer c.stopDuration()
	defer c.watch.Store(nil)
	defer s.dialogs.remove(c.dlg.ID)
	defer s.dialogs.removeInvite(c.sipReq, c)
	defer func() { c.ended(trace) }() // last: after closeMedia
	c.closeMedia()
}

// safeRoute is route with panic recovery, so a panicking identifier, template or dialplan
// application still gets its call ended properly: 500 when unanswered, BYE when answered.
func (c *call) safeRoute() (trace dialplan.Trace, err error) {
	defer func() {
		if r := recover(); r != nil {
			c.s.stats.panics.Add(1)
			stack := debug.Stack()
			if p, ok := r.(*shallow.Panic); ok { // in a step run off the call's goroutine
				r, stack = p.Value, p.Stack
			}
			c.logger().Error("call panic", "panic", r, "stack", string(stack))
			err = sipstatus.Newf(500, "panic: %v", r)
		}
	}()
	return c.route()
}

// route routes the call (routing.Router: identification, profiles, dialplan context) and
// runs its dialplan. Routing errors keep their SIP answers: an identifier's rejection or no
// match, 500 for a profile that cannot be built.
func (c *call) route() (dialplan.Trace, error) {
	plan, context, exten, err := c.routing()
	if err != nil {
		return nil, err
	}
	t0 := time.Now()
	defer func() { c.s.opts.Metrics.ObserveDialplan(time.Since(t0)) }()
	return plan.Run(c.ctx, c, context, exten, c.logger())
}

// routing routes the call (identification, profiles, dialplan context) and records what
// it found: the dialplan, context and extension to run.
//
//go:noinline
func (c *call) routing() (*dialplan.Plan, string, string, error) {
	s := c.s
	transport := sip.NetworkToLower(c.sipReq.Transport())
	r, err := request.FromSIP(c.sipReq, c.src, transport)
	if err != nil {
		return nil, "", "", sipstatus.New(400, err)
	}
	c.req = r
	if s.opts.Router == nil {
		return nil, "", "", sipstatus.New(500, errors.New("service has no router (templates, dialplan, identifier chain)"))
	}
	// Identification and the profiles' templates run deep: on a goroutine of their own, so
	// the call's goroutine, which waits as long as the call lasts, keeps a small stack. The
	// step and its result are pooled (routeStep), so neither escapes per call.
	step := routeSteps.Get().(*routeStep)
	defer step.release()
	step.router, step.ctx, step.req = s.opts.Router, c.ctx, r
	shallow.Run(step.run)
	rt, err := &step.rt, step.err
	s.routedInvite(c.sipReq) // overload control's queue delay ends here (overload.go)
	c.out.routed(rt, s.opts.Metrics)
	// The routing attributes go into one With (one logger per call, not two), after the
	// start attributes when nothing logged on the call yet (routedBase).
	m := &rt.Match
	var base *slog.Logger
	var attrs []slog.Attr
	if err == nil || m.Identifier != "" {
		base, attrs = c.routedBase(5)
	}
	if m.Identifier != "" {
		attrs = append(attrs, slog.String("identifier", m.Identifier),
			slog.String("caller_template", m.Caller.Name), slog.String("callee_template", m.Callee.Name))
	}
	if err != nil {
		if m.Identifier != "" {
			c.setLogger(lazylog.With(base, attrs...))
		}
		// No identifier matched: answered with [sip] no-match; rejections and a profile
		// that cannot be built already carry their answers (*sipstatus.Error).
		return nil, "", "", identify.Answer(err, s.settings().noMatch)
	}
	c.caller, c.callee = rt.Caller, rt.Callee
	s.mwi.learn(c.caller, c.src, transport)
	s.mwi.learn(c.callee, c.src, transport)
	s.blf.learn(c, c.src, transport)
	c.setLogger(lazylog.With(base, append(attrs, slog.String("context", rt.Context), slog.String("exten", rt.Exten))...))
	c.routed(rt.Context)
	c.logger().Debug("call routed")
	return rt.Plan, rt.Context, rt.Exten, nil
}

// routeStep is one call's routing handed to a shallow worker (call.routing): the router's
// arguments and its result. Steps are pooled with their run func, so routing a call
// allocates no closure and no escaping Routing. Owner: the routing call from Get to its
// release; nothing keeps a pointer into it after (routing copies what it needs out).
type routeStep struct {
	router routing.Router
	ctx    context.Context
	req    *request.Request
	rt     routing.Routing
	err    error
	run    func() // route, bound once when the step is made
}

// routeSteps holds idle route steps.
var routeSteps = sync.Pool{New: func() any {
	st := new(routeStep)
	st.run = st.route
	return st
}}

// route runs the step's routing on a shallow worker.
func (st *routeStep) route() { st.rt, st.err = st.router.Route(st.ctx, st.req) }

// release clears the step and returns it to routeSteps. A step whose routing panicked
// (shallow.Run re-raised it) is released too: its worker is done with it.
func (st *routeStep) release() {
	*st = routeStep{run: st.run}
	routeSteps.Put(st)
}

// finish ends the call through the state machine's end transition: an unanswered call
// gets its final answer (finalAnswer computes it from err, writeFinal writes it; 487 after a
// CANCEL or the caller's BYE), an answered call the caller has not hung up gets BYE. Then it
// logs one line for the call.
func (c *call) finish(trace dialplan.Trace, err error) {
	cause := context.Cause(c.ctx)
	// A cancelled call (drain) is answered for its cause, not for the context error the
	// dialplan returned.
	why := err
	if cause != nil {
		why = cause
	}
	a, hdrs := finalAnswer(why)
	cancelled := errors.Is(context.Cause(c.dlg.Context()), sip.ErrTransactionCanceled)
	switch act, final := c.st.end(cancelled, a.Code); act {
	case endRespond:
		if final != a.Code {
			// The caller's BYE in the early dialog (RFC 3261 15.1.2): the INVITE gets 487.
			a, hdrs = finalAnswer(sipstatus.New(final, ErrPeerHangup))
		}
		if ferr := c.writeFinal(a, hdrs); ferr != nil {
			c.logger().Debug("final answer not sent", "status", a.Code, "error", ferr)
		}
	case endCancelled:
		// sipgo answered the CANCEL (200) and the INVITE (487).
		c.s.stats.reject(sip.StatusRequestTerminated)
	case endBye:
		_ = c.bye()
	}
	c.st.close()
	c.logEnd(trace, err, cause)
}

// ended records the finished call: the metrics and the call record. runCall calls it last,
// after the media is closed (its counters are final).
func (c *call) ended(trace dialplan.Trace) {
	snap := c.st.snapshot()
	apps := make([]string, len(trace))
	for i, st := range trace {
		apps[i] = st.App // the name only: never the arguments
	}
	c.out.end(c, snap.final, endedBy(snap.peerBye, snap.byeSent, snap.final), apps)
}

// ackInvite handles the ACK of the 200 OK to the initial INVITE (handleAck routes it here
// when the state machine says so): sipgo's dialog reads it, then the confirm transition
// applies a late offer's answer; a missing or refused answer ends the call with BYE.
func (c *call) ackInvite(ack *sip.Request, tx sip.ServerTransaction) bool {
	if err := c.dlg.ReadAck(ack, tx); err != nil {
		c.logger().Debug("ACK not for the initial INVITE", "error", err)
		return false
	}
	answer, rerr := sdpOf(ack)
	if err := c.st.confirm(answer, rerr); err != nil {
		c.ackAnswerFailed("INVITE", err)
	}
	// The INVITE transaction has done its work: sipgo would keep it (RFC 6026 Accepted)
	// until Timer L, 64*T1 = 32 s, only to absorb INVITE retransmissions, which
	// handleInvite now drops itself. Terminate sends nothing and leaves the dialog as is.
	// (sipgo v1.7.3 does not stop Timer L on Terminate: the transaction object stays
	// reachable from that timer until it fires, but is out of the transaction layer.)
	c.tx.Terminate()
	return true
}

// ackAnswerFailed ends the call whose SDP offer (in our 200 to what) got no usable answer in
// the ACK (RFC 3261 13.2.1).
func (c *call) ackAnswerFailed(what string, err error) {
	c.logger().Warn("our SDP offer got no usable answer in the ACK: ending the call", "to", what, "error", err)
	c.cancel(fmt.Errorf("ACK of %s: %w", what, err))
}

// logEnd writes the one summary line of a call.
func (c *call) logEnd(trace dialplan.Trace, err, cause error) {
	// A call that ended on an error is a warning (a template header naming no template, a
	// failing application, a missing ACK), except the ordinary outcomes: no identifier
	// matched, or the caller hung up.
	level := slog.LevelInfo
	// The dialplan ending the call on purpose (Busy, Hangup(cause), Transfer) is no error.
	isErr := err != nil && !errors.Is(err, ErrPeerHangup) && !errors.Is(err, errLocalHangup) &&
		!errors.Is(err, dialplan.ErrEnded)
	if isErr && !errors.Is(err, identify.ErrNoMatch) && !errors.Is(err, context.Canceled) {
		level = slog.LevelWarn
	}
	log := c.logger()
	if !log.Enabled(context.Background(), level) {
		return // at log-level = warn an ordinary call builds none of its summary
	}
	snap := c.st.snapshot()
	final := snap.final
	attrs := []any{
		"status", final,
		"dialplan", trace.Brief(), // steps without arguments: those are logged at Debug only
		"duration", time.Since(c.start).Round(time.Millisecond).String(),
	}
	if by := endedBy(snap.peerBye, snap.byeSent, final); by != "" {
		attrs = append(attrs, "ended_by", by)
	}
	if cause != nil && !errors.Is(cause, context.Canceled) {
		attrs = append(attrs, "cause", cause.Error())
	}
	if isErr {
		attrs = append(attrs, "error", err.Error())
	}
	log.Log(context.Background(), level, "call ended", attrs...)
}

// dialogUA is the sipgo dialog user agent of a call started by req: its Contact is our
// answers' (contactFor). Calls to a listener bound to a specific address share one
// (dialogTable.ua); a wildcard listener's Contact takes the Request-URI's host, so each of
// its calls gets its own.
func (s *Server) dialogUA(req *sip.Request, tx sip.ServerTransaction) *sipgo.DialogUA {
	local := localAddr(tx)
	tp := sip.NetworkToLower(req.Transport())
	if !local.IsValid() || local.Addr().IsUnspecified() {
		return &sipgo.DialogUA{Client: s.client, ContactHDR: s.contactFor(req, tx)}
	}
	return s.dialogs.ua(uaKey{local, tp}, func() *sipgo.DialogUA {
		return &sipgo.DialogUA{Client: s.client, ContactHDR: s.contactFor(req, tx)}
	})
}

// localAddr is the local address of tx's connection, the zero AddrPort when unknown.
func localAddr(tx sip.ServerTransaction) netip.AddrPort {
	if co, ok := tx.(interface{ Connection() sip.Connection }); ok && co.Connection() != nil {
		return addrPortOf(co.Connection().LocalAddr())
	}
	return netip.AddrPort{}
}

// contactFor is the Contact of our answers to req: the local address the request arrived
// on, with its transport. A listener on a wildcard address uses the Request-URI's host.
func (s *Server) contactFor(req *sip.Request, tx sip.ServerTransaction) sip.ContactHeader {
	local := localAddr(tx)
	uri := sip.Uri{Scheme: "sip", Host: local.Addr().Unmap().String(), Port: int(local.Port())}
	if !local.IsValid() || local.Addr().IsUnspecified() {
		uri.Host, uri.Port = req.Recipient.Host, req.Recipient.Port
		if local.IsValid() {
			uri.Port = int(local.Port())
		}
	}
	if tp := sip.NetworkToLower(req.Transport()); tp != "udp" {
		uri.UriParams = sip.NewParams()
		uri.UriParams.Add("transport", tp)
	}
	return sip.ContactHeader{Address: uri}
}
