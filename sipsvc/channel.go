package sipsvc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/sidecar-voip/sidecar/dialplan"
	"github.com/sidecar-voip/sidecar/internal/lazylog"
	"github.com/sidecar-voip/sidecar/internal/shallow"
	"github.com/sidecar-voip/sidecar/internal/sipstatus"
	"github.com/sidecar-voip/sidecar/media"
	"github.com/sidecar-voip/sidecar/profile"
	"github.com/sidecar-voip/sidecar/request"
)

// byeTimeout bounds how long a BYE waits for its answer.
const byeTimeout = 10 * time.Second

// errLocalHangup is the cause of a call's context once the service sent BYE.
var errLocalHangup = errors.New("call hung up")

// call is one incoming INVITE and its dialog. It implements dialplan.Channel.
// Its state is the state machine st (call.go): Channel methods, called by
// the dialplan's one goroutine, and the handlers for ACK, BYE, re-INVITE and INFO, running
// concurrently, change it only through st's transitions. The other fields are set before
// the call is shared (req, caller, callee: before the dialplan runs, read only by it).
type call struct {
	s      *Server
	sipReq *sip.Request
	tx     sip.ServerTransaction
	dlg    *sipgo.DialogServerSession
	ua     *sipgo.DialogUA // its ContactHDR is our Contact; shared between calls (dialogUA)
	src    netip.AddrPort
	start  time.Time
	st     *callState

	req            *request.Request
	caller, callee *profile.Profile
	startLog       atomic.Pointer[slog.Logger] // the call's logger at its start, made on first use: read it through logger
	routedLog      atomic.Pointer[slog.Logger] // the logger with what routing found (setLogger), once routed
	active         atomic.Pointer[routeInfo]   // templates and context for ActiveCalls (active.go), once routed

	ctx    context.Context
	cancel context.CancelCauseFunc

	dur   durationLink          // the call's place among the maximum durations (duration.go)
	watch *atomic.Pointer[call] // the dialog's end watch reaches the call through it (newCall)

	offer []byte // the INVITE's SDP (the SDP part of a multipart body), nil for a late offer

	out outcome // what the call record and the metrics need, filled as the call goes

	blf atomic.Pointer[blfParties] // the parties that publish dialog state (blf.go), once routed
}

var _ dialplan.Channel = (*call)(nil)

// logger is the call's logger: with the identifier, templates and dialplan context once
// route has found them. Handlers of in-dialog requests read it while route runs, so route
// publishes its richer logger atomically (setLogger) instead of rewriting log.
func (c *call) logger() *slog.Logger {
	if l := c.routedLog.Load(); l != nil {
		return l
	}
	if l := c.startLog.Load(); l != nil {
		return l
	}
	// Made on first use: a call routed before anything logs on it (every call at
	// log-level = warn) never makes it; routing puts the start attributes in its own logger.
	l := lazylog.With(c.s.log, c.startAttrs(0)...)
	if c.startLog.CompareAndSwap(nil, l) {
		return l
	}
	return c.startLog.Load()
}

// startAttrs are the attributes of the call's logger at its start (Call-ID, source,
// transport), in a slice with room for more.
func (c *call) startAttrs(more int) []slog.Attr {
	return append(make([]slog.Attr, 0, 3+more), slog.String("call_id", callIDOf(c.sipReq)),
		slog.String("source", c.src.String()), slog.String("transport", sip.NetworkToLower(c.sipReq.Transport())))
}

// routedBase is the logger routing's attributes go on and the slice (with room for more)
// to put them in: the start logger when it was made, else the service's with the start
// attributes first, so the routed call has one logger, not two.
func (c *call) routedBase(more int) (*slog.Logger, []slog.Attr) {
	if l := c.startLog.Load(); l != nil {
		return l, make([]slog.Attr, 0, more)
	}
	return c.s.log, c.startAttrs(more)
}

// setLogger makes l the call's logger.
func (c *call) setLogger(l *slog.Logger) { c.routedLog.Store(l) }

// Request is the INVITE that started the call.
func (c *call) Request() *request.Request { return c.req }

// Caller is the caller's profile, nil when the caller has no template.
func (c *call) Caller() *profile.Profile { return c.caller }

// Callee is the callee's profile, nil when the callee has no template.
func (c *call) Callee() *profile.Profile { return c.callee }

// Answered reports whether the 200 OK has been sent.
func (c *call) Answered() bool { return c.st.answered() }

// Media returns the call's media session, nil before answer or early media.
func (c *call) Media() media.Session { return c.st.media() }

// Progress sends 180 Ringing, or 183 Session Progress (with the media session's SDP when
// a media plane is configured: early media). After answer it does nothing.
func (c *call) Progress(ctx context.Context, code int) error {
	if code != 180 && code != 183 {
		return fmt.Errorf("progress: status %d: want 180 or 183", code)
	}
	if skip, err := c.st.progress(); skip || err != nil {
		if err != nil {
			return fmt.Errorf("progress %d: %w", code, err)
		}
		return nil
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("progress %d: %w", code, context.Cause(ctx))
	}
	var body []byte
	hdrs := []sip.Header{}
	if code == 183 && c.s.opts.Media != nil {
		sess, err := c.openMedia(ctx)
		if err != nil {
			return err
		}
		body = sess.LocalSDP()
		hdrs = append(hdrs, sip.NewHeader("Content-Type", "application/sdp"))
	}
	if h := c.s.fixed.server; h != nil {
		hdrs = append(hdrs, h)
	}
	if err := c.dlg.Respond(code, sipstatus.Phrase(code), body, hdrs...); err != nil {
		return fmt.Errorf("progress %d: %w", code, err)
	}
	c.st.progressSent()
	return nil
}

// Answer sends 200 OK with the media session's SDP and returns when the ACK arrives. With
// no ACK within the configured ack-timeout it returns ErrNoACK; the call is then ended with
// BYE when the dialplan returns. Answering an answered call does nothing.
func (c *call) Answer(ctx context.Context) error {
	res, wait, err := c.sendAnswer(ctx)
	if err != nil || !wait {
		return err
	}
	timer := time.NewTimer(c.firstAckWait())
	defer timer.Stop()
	return c.awaitAck(ctx, res, timer, time.Now().Add(c.s.cfg.ACKTimeout), false)
}

// AnswerShallow is Answer for a goroutine that must keep a small stack, the dialplan's
// (dialplan.Call.Answer calls it): the deep part, the media, the SDP and the 200 OK
// (sendAnswer), runs on a worker of package shallow, and the caller waits for the ACK
// meanwhile, so that on a call answered as usual one goroutine wakes, the caller at the
// ACK: the worker's end wakes nobody. The worker arms the ACK wait's timer when the 200
// is out (awaitAck's first retransmission, T1 later), or at once when there is nothing to
// wait for (an error, a call answered already, a panic) so that the caller wakes then.
func (c *call) AnswerShallow(ctx context.Context) error {
	a := answerings.Get().(*answering)
	defer a.release()
	a.c, a.ctx = c, ctx
	step := shallow.Go(a.send)
	callDone, ctxDone := c.ctx.Done(), ctx.Done()
	if ctxDone == callDone {
		ctxDone = nil
	}
	fired := false
	select {
	case <-c.st.acked:
	case <-callDone:
	case <-ctxDone:
	case <-a.timer.C:
		fired = true
	}
	step.Wait() // the worker's writes to a are ours from here on
	if a.err != nil || !a.wait {
		return a.err
	}
	return c.awaitAck(ctx, a.res, a.timer, a.deadline, fired)
}

// answering is one AnswerShallow: what its worker needs (c, ctx) and hands back to the
// caller's goroutine, which reads it after its step's Wait. AnswerShallow owns it from
// answerings.Get to release; pooled with its timer, it costs a call no allocation.
type answering struct {
	c        *call
	ctx      context.Context
	res      *sip.Response // the 200 OK to retransmit, nil: none
	wait     bool          // the 200 went out: wait for its ACK
	err      error
	deadline time.Time   // the ack-timeout's end
	timer    *time.Timer // the ACK wait's timer, stopped when idle
}

// answerings holds idle answerings.
var answerings = sync.Pool{New: func() any {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return &answering{timer: t}
}}

// release stops a's timer, clears a and puts it back in answerings: a is no one's then.
// Since Go 1.23 a stopped timer's channel delivers nothing stale, so a's next user sees
// only its own expiry.
func (a *answering) release() {
	a.timer.Stop()
	*a = answering{timer: a.timer}
	answerings.Put(a)
}

// send is AnswerShallow's worker step: sendAnswer, then a.timer armed.
func (a *answering) send() {
	armed := false
	defer func() {
		if !armed {
			a.timer.Reset(0) // nothing to wait for, or a panic: the caller wakes at once
		}
	}()
	a.res, a.wait, a.err = a.c.sendAnswer(a.ctx)
	if a.err == nil && a.wait {
		a.deadline = time.Now().Add(a.c.s.cfg.ACKTimeout)
		a.timer.Reset(a.c.firstAckWait())
		armed = true
	}
}

// sendAnswer is Answer's deep part: it opens the media and sends the 200 OK. wait reports
// that the 200 went out and its ACK is to be waited for (awaitAck), retransmitting res
// (nil: the transaction is over already, no retransmission); wait is false with no error
// when the call was answered already.
func (c *call) sendAnswer(ctx context.Context) (res *sip.Response, wait bool, err error) {
	if already, err := c.st.answer(false); already || err != nil {
		if err != nil {
			return nil, false, fmt.Errorf("answer: %w", err)
		}
		return nil, false, nil
	}
	sess, err := c.openMedia(ctx)
	if err != nil {
		return nil, false, err
	}
	res = sip.NewSDPResponseFromRequest(c.dlg.InviteRequest, sess.LocalSDP())
	res.AppendHeader(c.s.allowHeader())
	res.AppendHeader(c.s.fixed.supported)
	c.s.decorate(res)

	// The claim fails when the caller's BYE in the early dialog won: it gets 487, not a 200.
	if already, err := c.st.answer(true); already || err != nil {
		if err != nil {
			return nil, false, fmt.Errorf("answer: %w", err)
		}
		return nil, false, nil
	}

	c.out.finalAt(time.Now())
	// The 200 leaves at once; the dialplan's goroutine then retransmits it until the ACK.
	if err := c.dlg.WriteResponseNoWait(res); err != nil {
		switch {
		case c.dlg.LoadState() < sip.DialogStateEstablished:
			// The 200 never left: the INVITE was cancelled first.
			c.st.cancel()
			return nil, false, fmt.Errorf("answer: %w", err)
		case c.st.peerHungUp():
			return nil, false, fmt.Errorf("answer: %w", ErrPeerHangup)
		case !errors.Is(err, sip.ErrTransactionTerminated):
			return nil, false, c.noACK(err)
		}
		return nil, true, nil
	}
	return res, true, nil
}

// retransmitAfter is the interval between retransmissions of the initial 200 OK after the
// first one (sent T1 after the answer), as sipgo's dialog spaced them: max(2*T1, T2).
var retransmitAfter = max(2*sip.T1, sip.T2)

// firstAckWait is how long after the 200 OK awaitAck's timer first fires: at the first
// retransmission, or at the ack-timeout when that comes first.
func (c *call) firstAckWait() time.Duration { return min(sip.T1, c.s.cfg.ACKTimeout) }

// awaitAck waits, in the dialplan's goroutine (shallow: what runs deep, the retransmissions
// and the log record, runs through package shallow), for the ACK of the initial 200 OK res,
// retransmitting it through the INVITE transaction (RFC 3261 13.3.1.4: first after T1, then
// every retransmitAfter; res nil: not at all) until the transaction ends (sipgo's Timer L,
// 64*T1), and gives up at the deadline (the ack-timeout after the 200): ErrNoACK, the call
// then ends with BYE. One timer serves both: timer, armed for firstAckWait after the 200;
// fired reports that it fired already (its expiry was received by the caller).
func (c *call) awaitAck(ctx context.Context, res *sip.Response, timer *time.Timer, deadline time.Time, fired bool) error {
	resend := res != nil
	// The dialog's end is seen through the call's context, which the dialog's state
	// callback cancels right after the dialog's (newCall): waiting on the dialog's own
	// context would make its Done channel, one more per call. ctx is c.ctx on the call
	// path (the dialplan passes it down); both are watched for a ctx of another origin.
	callDone, ctxDone := c.ctx.Done(), ctx.Done()
	if ctxDone == callDone {
		ctxDone = nil // one select case less: the callDone case serves both
	}
	for {
		if fired {
			fired = false
			left := time.Until(deadline)
			if left <= 0 {
				// Terminating the transaction ends the retransmissions and lets the BYE go
				// out at once.
				c.tx.Terminate()
				return c.noACK(nil)
			}
			if resend {
				var err error
				shallow.Run(func() { err = c.tx.Respond(res) }) // sipgo's transport runs deep
				if err != nil {
					// sipgo ended the transaction at Timer L (64*T1) and with it the
					// retransmissions; a longer ack-timeout still waits for the ACK,
					// which reaches the ACK handler without the transaction.
					if !errors.Is(err, sip.ErrTransactionTerminated) {
						return c.noACK(err)
					}
					resend = false
				}
			}
			if resend {
				left = min(left, retransmitAfter)
			}
			timer.Reset(left)
		}
		select {
		case <-c.st.acked:
			c.s.stats.answered.Add(1)
			if l := c.logger(); l.Enabled(context.Background(), slog.LevelInfo) {
				shallow.Run(func() { l.Info("call answered") }) // a record's formatting runs deep
			}
			return nil
		case <-callDone:
			if c.dlg.LoadState() == sip.DialogStateEnded {
				return c.dialogEndedBeforeAck()
			}
			if ctx.Err() == nil {
				callDone = nil // the call's context, not ctx: wait on as before
				continue
			}
			c.tx.Terminate()
			return fmt.Errorf("answer: %w", context.Cause(ctx))
		case <-timer.C:
			fired = true
		case <-ctxDone:
			if c.dlg.LoadState() == sip.DialogStateEnded {
				return c.dialogEndedBeforeAck()
			}
			c.tx.Terminate()
			return fmt.Errorf("answer: %w", context.Cause(ctx))
		}
	}
}

// dialogEndedBeforeAck is awaitAck's error when the dialog ended before the ACK.
func (c *call) dialogEndedBeforeAck() error {
	if c.st.peerHungUp() {
		// BYE before ACK (the ACK was lost or reordered): the caller ended the call.
		return fmt.Errorf("answer: %w", ErrPeerHangup)
	}
	return c.noACK(errors.New("dialog ended before the ACK"))
}

// noACK records a 200 OK that was never acknowledged.
func (c *call) noACK(err error) error {
	c.s.stats.noACK.Add(1)
	attrs := []any{"ack_timeout", c.s.cfg.ACKTimeout.String()}
	if err != nil {
		attrs = append(attrs, "error", err)
	}
	c.logger().Warn("200 OK never acknowledged: ending the call with BYE", attrs...)
	return ErrNoACK
}

// Hangup ends an answered call with BYE (through the Record-Route set).
func (c *call) Hangup(ctx context.Context) error {
	err := c.bye()
	if errors.Is(err, ErrNotAnswered) {
		return fmt.Errorf("hangup: %w", err)
	}
	return err
}

// bye sends BYE once on an answered call, unless the caller already hung up; later calls
// return the first one's result.
func (c *call) bye() error {
	send, err := c.st.byeOut()
	if !send {
		return err
	}
	ctx, cancel := context.WithTimeout(outbound(context.Background()), byeTimeout)
	defer cancel()
	if err := c.dlg.Bye(ctx); err != nil {
		c.logger().Warn("BYE failed", "error", err)
		err = fmt.Errorf("send bye: %w", err)
		c.st.byeDone(err)
		return err
	}
	return nil
}

// openMedia opens the call's media session once; without a media plane it fails with a
// status error (500).
func (c *call) openMedia(ctx context.Context) (media.Session, error) {
	if sess := c.st.media(); sess != nil {
		return sess, nil
	}
	plane := c.s.opts.Media
	if plane == nil {
		return nil, sipstatus.New(500, ErrNoMedia)
	}
	offer := c.offer
	p := dialplan.MediaFor(c.caller, c.callee)
	p.CallID, p.Offer = c.req.CallID, offer
	sess, err := plane.Open(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("open media: %w", err)
	}
	c.st.setMedia(sess, len(offer) == 0)
	c.s.mediaWatch.add(c, sess.Done()) // the call ends when the media ends by itself
	return sess, nil
}

// closeMedia releases the media session, if any.
func (c *call) closeMedia() {
	if sess := c.Media(); sess != nil {
		c.s.mediaWatch.remove(c)
		if err := sess.Close(); err != nil {
			c.logger().Warn("close media", "error", err)
		}
		c.out.mediaClosed(sess, c.s.opts.Metrics)
	}
}
