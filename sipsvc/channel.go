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
	"github.com/sidecar-voip/sidecar/internal/sipstatus"
	"github.com/sidecar-voip/sidecar/media"
	"github.com/sidecar-voip/sidecar/profile"
	"github.com/sidecar-voip/sidecar/request"
)

// byeTimeout bounds how long a BYE waits for its answer.
const byeTimeout = 10 * time.Second

// errLocalHangup is the cause of a call's context once the service sent BYE.
var errLocalHangup = errors.New("call hung up")

// callState is where an incoming call is on its way to a final answer.
type callState int

const (
	stateNew      callState = iota // 100 Trying sent
	stateEarly                     // 180 or 183 sent
	stateAnswered                  // 200 OK sent
	stateFinal                     // an error or redirect answer sent, or the INVITE cancelled
)

// call is one incoming INVITE and its dialog. It implements dialplan.Channel and
// media.Carrier. Channel methods are called by the dialplan's one goroutine; handlers for
// ACK, BYE and re-INVITE touch the call concurrently through the mutex and atomics.
type call struct {
	s       *Server
	sipReq  *sip.Request
	tx      sip.ServerTransaction
	dlg     *sipgo.DialogServerSession
	contact sip.ContactHeader
	src     netip.AddrPort
	start   time.Time

	req            *request.Request
	caller, callee *profile.Profile
	log            *slog.Logger                // the call's logger at its start: read it through logger
	routedLog      atomic.Pointer[slog.Logger] // log with what routing found (setLogger), once routed

	ctx    context.Context
	cancel context.CancelCauseFunc

	offer      []byte // the INVITE's SDP (the SDP part of a multipart body), nil for a late offer
	inviteCSeq uint32 // CSeq of the initial INVITE

	// sdpMu serialises the offer/answer exchanges of the call: every SetRemote of its media
	// session, and each ACK that carries an answer until that answer is applied. A
	// re-INVITE's offer therefore never reaches the session while it awaits an answer. Take
	// it before mu, never while holding mu.
	sdpMu sync.Mutex

	mu         sync.Mutex
	state      callState
	final      int // the final status sent: 200 when answered
	sess       media.Session
	lateOffer  bool
	remoteCSeq uint32         // highest CSeq accepted from the caller in this dialog
	pending    *pendingAnswer // the re-INVITE being answered, until its 2xx is ACKed
	ackedReInv uint32         // CSeq of the last re-INVITE whose 2xx was ACKed (0: none)

	acked   chan struct{}
	ackOnce sync.Once
	peerBye atomic.Bool
	byeSent atomic.Bool
	byeOnce sync.Once
	byeErr  error
}

var (
	_ dialplan.Channel = (*call)(nil)
	_ media.Carrier    = (*call)(nil)
)

// logger is the call's logger: with the identifier, templates and dialplan context once
// route has found them. Handlers of in-dialog requests read it while route runs, so route
// publishes its richer logger atomically (setLogger) instead of rewriting log.
func (c *call) logger() *slog.Logger {
	if l := c.routedLog.Load(); l != nil {
		return l
	}
	return c.log
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
func (c *call) Answered() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state == stateAnswered
}

// Media returns the call's media session, nil before answer or early media.
func (c *call) Media() media.Session {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sess
}

// Progress sends 180 Ringing, or 183 Session Progress (with the media session's SDP when
// a media plane is configured: early media). After answer it does nothing.
func (c *call) Progress(ctx context.Context, code int) error {
	if code != 180 && code != 183 {
		return fmt.Errorf("progress: status %d: want 180 or 183", code)
	}
	c.mu.Lock()
	st := c.state
	c.mu.Unlock()
	switch st {
	case stateAnswered:
		return nil
	case stateFinal:
		return fmt.Errorf("progress %d: %w", code, ErrCallEnded)
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
	if ua := c.s.cfg.UserAgent; ua != "" {
		hdrs = append(hdrs, sip.NewHeader("Server", ua))
	}
	if err := c.dlg.Respond(code, sipstatus.Phrase(code), body, hdrs...); err != nil {
		return fmt.Errorf("progress %d: %w", code, err)
	}
	c.mu.Lock()
	if c.state == stateNew {
		c.state = stateEarly
	}
	c.mu.Unlock()
	return nil
}

// Answer sends 200 OK with the media session's SDP and returns when the ACK arrives. With
// no ACK within the configured ack-timeout it returns ErrNoACK; the call is then ended with
// BYE when the dialplan returns. Answering an answered call does nothing.
func (c *call) Answer(ctx context.Context) error {
	c.mu.Lock()
	st := c.state
	c.mu.Unlock()
	switch st {
	case stateAnswered:
		return nil
	case stateFinal:
		return fmt.Errorf("answer: %w", ErrCallEnded)
	}
	sess, err := c.openMedia(ctx)
	if err != nil {
		return err
	}
	res := sip.NewSDPResponseFromRequest(c.dlg.InviteRequest, sess.LocalSDP())
	res.AppendHeader(allowHeader())
	res.AppendHeader(supportedHeader())
	c.s.decorate(res)

	c.mu.Lock()
	if c.state == stateFinal {
		c.mu.Unlock()
		return fmt.Errorf("answer: %w", ErrCallEnded)
	}
	if c.peerBye.Load() {
		// The caller's BYE in the early dialog won: it gets 487, not a 200.
		c.mu.Unlock()
		return fmt.Errorf("answer: %w", ErrPeerHangup)
	}
	c.state, c.final = stateAnswered, 200
	c.mu.Unlock()

	// WriteResponse retransmits the 200 until the dialog is confirmed by the ACK.
	done := make(chan error, 1)
	go func() {
		defer c.s.recoverGo("answer")
		done <- c.dlg.WriteResponse(res)
	}()
	timer := time.NewTimer(c.s.cfg.ACKTimeout)
	defer timer.Stop()
	select {
	case err := <-done:
		if err == nil {
			c.s.stats.answered.Add(1)
			c.logger().Info("call answered")
			return nil
		}
		if c.dlg.LoadState() < sip.DialogStateEstablished {
			// The 200 never left: the INVITE was cancelled first.
			c.mu.Lock()
			c.state, c.final = stateFinal, sip.StatusRequestTerminated
			c.mu.Unlock()
			return fmt.Errorf("answer: %w", err)
		}
		if c.peerBye.Load() {
			// BYE before ACK (the ACK was lost or reordered): the caller ended the call.
			return fmt.Errorf("answer: %w", ErrPeerHangup)
		}
		if errors.Is(err, sip.ErrTransactionTerminated) {
			// sipgo ended the transaction at Timer L (64*T1) and with it the
			// retransmissions; a longer ack-timeout still waits for the ACK, which
			// reaches the ACK handler without the transaction.
			return c.awaitAck(ctx, timer)
		}
		return c.noACK(err)
	case <-timer.C:
		// Terminating the transaction stops the retransmissions (the writer goroutine
		// returns at its next attempt, within T2) and lets the BYE go out at once.
		c.tx.Terminate()
		return c.noACK(nil)
	case <-ctx.Done():
		c.tx.Terminate()
		return fmt.Errorf("answer: %w", context.Cause(ctx))
	}
}

// awaitAck waits for the ACK of the initial 200 OK once its retransmissions have stopped,
// until timer (the ack-timeout) fires.
func (c *call) awaitAck(ctx context.Context, timer *time.Timer) error {
	select {
	case <-c.acked:
		c.s.stats.answered.Add(1)
		c.logger().Info("call answered")
		return nil
	case <-timer.C:
		return c.noACK(nil)
	case <-ctx.Done():
		return fmt.Errorf("answer: %w", context.Cause(ctx))
	}
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

// ackReceived is called by the ACK handler once the dialog is confirmed. A late-offer call
// applies the SDP answer the ACK carries; a missing or refused answer ends the call.
// The answer is applied before the ACK is signalled (c.acked closed), so a re-INVITE
// waiting for that ACK cannot hand its offer to a session that still awaits the answer.
func (c *call) ackReceived(ack *sip.Request) {
	c.sdpMu.Lock()
	defer c.sdpMu.Unlock()
	select {
	case <-c.acked:
		return // a retransmitted ACK: the first one was applied
	default:
	}
	c.mu.Lock()
	late := c.lateOffer
	c.mu.Unlock()
	if late {
		c.applyAckAnswer(ack, "INVITE")
	}
	c.ackOnce.Do(func() { close(c.acked) })
}

// initialAckPending reports whether the 200 OK to the initial INVITE was sent and is not
// yet acknowledged; it returns the channel closed by that ACK. Call with c.mu held.
func (c *call) initialAckPending() (<-chan struct{}, bool) {
	if c.state != stateAnswered {
		return nil, false
	}
	select {
	case <-c.acked:
		return nil, false
	default:
		return c.acked, true
	}
}

// sendFinal claims the call's final answer and sends it. It fails on an answered call or
// one that already has its final answer.
func (c *call) sendFinal(code int, reason string, hdrs ...sip.Header) error {
	c.mu.Lock()
	switch c.state {
	case stateAnswered:
		c.mu.Unlock()
		return fmt.Errorf("answer %d: %w", code, ErrAnswered)
	case stateFinal:
		c.mu.Unlock()
		return fmt.Errorf("answer %d: %w", code, ErrCallEnded)
	}
	c.state, c.final = stateFinal, code
	c.mu.Unlock()
	if reason == "" {
		reason = sipstatus.Phrase(code)
	}
	if ua := c.s.cfg.UserAgent; ua != "" {
		hdrs = append(hdrs, sip.NewHeader("Server", ua))
	}
	c.s.stats.reject(code)
	// Straight to the transaction, not through the dialog (which would wait for the ACK):
	// the transaction absorbs the ACK and retransmits the answer by itself, and the call's
	// slot is free at once.
	res := sip.NewResponseFromRequest(c.dlg.InviteRequest, code, reason, nil)
	for _, h := range hdrs {
		res.AppendHeader(h)
	}
	if err := c.tx.Respond(res); err != nil {
		return fmt.Errorf("answer %d: %w", code, err)
	}
	return nil
}

// Hangup ends an answered call with BYE (through the Record-Route set).
func (c *call) Hangup(ctx context.Context) error {
	if !c.Answered() {
		return fmt.Errorf("hangup: %w", ErrNotAnswered)
	}
	return c.bye()
}

// bye sends BYE once, unless the caller already hung up.
func (c *call) bye() error {
	c.byeOnce.Do(func() {
		if c.peerBye.Load() {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), byeTimeout)
		defer cancel()
		c.byeSent.Store(true)
		if err := c.dlg.Bye(ctx); err != nil {
			c.byeErr = fmt.Errorf("send bye: %w", err)
			c.logger().Warn("BYE failed", "error", err)
		}
	})
	return c.byeErr
}

// openMedia opens the call's media session once; without a media plane it fails with a
// status error (500).
func (c *call) openMedia(ctx context.Context) (media.Session, error) {
	c.mu.Lock()
	if c.sess != nil {
		sess := c.sess
		c.mu.Unlock()
		return sess, nil
	}
	c.mu.Unlock()
	plane := c.s.opts.Media
	if plane == nil {
		return nil, sipstatus.New(500, ErrNoMedia)
	}
	offer := c.offer
	sess, err := plane.Open(ctx, c.req.CallID, offer, c.codecs())
	if err != nil {
		return nil, fmt.Errorf("open media: %w", err)
	}
	c.mu.Lock()
	c.sess, c.lateOffer = sess, len(offer) == 0
	c.mu.Unlock()
	go c.watchMedia(sess)
	return sess, nil
}

// codecs is the codec list media is negotiated on: the caller's (the party on the other end
// of this leg), else the callee's, else the plane's defaults.
func (c *call) codecs() []string {
	if c.caller != nil && len(c.caller.Codecs) > 0 {
		return c.caller.Codecs
	}
	if c.callee != nil {
		return c.callee.Codecs
	}
	return nil
}

// watchMedia ends the call when its media session ends by itself.
func (c *call) watchMedia(sess media.Session) {
	defer c.s.recoverGo("watch media")
	select {
	case <-sess.Done():
		c.logger().Info("media session ended: hanging up")
		c.cancel(ErrMediaEnded)
	case <-c.ctx.Done():
	}
}

// closeMedia releases the media session, if any.
func (c *call) closeMedia() {
	if sess := c.Media(); sess != nil {
		if err := sess.Close(); err != nil {
			c.logger().Warn("close media", "error", err)
		}
	}
}
