package dialplan

import (
	"context"
	"errors"
	"fmt"

	"github.com/sidecar-voip/sidecar/internal/shallow"
	"github.com/sidecar-voip/sidecar/media"
	"github.com/sidecar-voip/sidecar/profile"
)

// ErrNoMedia reports a call that has no media session: not answered and without early media
// (and not asked to answer), or on a SIP service without a media plane.
var ErrNoMedia = errors.New("call has no media")

// MediaFor returns the media parameters of a call between caller and callee (either may be
// nil): the codec list and the DTMF mode each come from the caller's profile, else the
// callee's, else the media plane's defaults. The SIP service passes them to media.Plane.Open,
// adding the Call-ID and the offer. This is the one place the rule lives: the codecs
// negotiated and the digits the apps hear follow the same party.
func MediaFor(caller, callee *profile.Profile) media.Params {
	var p media.Params
	for _, party := range []*profile.Profile{caller, callee} {
		if party == nil {
			continue
		}
		if len(p.Codecs) == 0 && len(party.Codecs) > 0 {
			p.Codecs = party.Codecs
		}
		if p.DTMFMode == "" {
			p.DTMFMode = string(party.DTMFMode)
		}
	}
	return p
}

// Answer answers the call (Channel.Answer): opening the media, the SDP and the 200 OK run
// deep, on a goroutine of package shallow's, so that the call's goroutine, which then waits
// as long as the call lasts (Echo, Playback), keeps a small stack. A channel that does that
// itself (shallowAnswerer, as the SIP service's does) answers on the call's goroutine.
func (c *Call) Answer(ctx context.Context) error {
	if a, ok := c.Channel.(shallowAnswerer); ok {
		return a.AnswerShallow(ctx)
	}
	return c.answerShallow(ctx)
}

// answerShallow runs Channel.Answer through package shallow (apart from Answer, so that
// the variable its closure writes is not made on Answer's way to AnswerShallow).
func (c *Call) answerShallow(ctx context.Context) (err error) {
	shallow.Run(func() { err = c.Channel.Answer(ctx) })
	return err
}

// shallowAnswerer is a Channel with an Answer that keeps its caller's stack small itself:
// AnswerShallow is Answer, its deep parts run through package shallow (the SIP service
// waits for the ACK on the caller's goroutine, so that the ACK wakes it directly).
type shallowAnswerer interface {
	AnswerShallow(ctx context.Context) error
}

// Progress sends a provisional response (Channel.Progress) on a goroutine of its own, as
// Answer does: a 183 opens the media.
func (c *Call) Progress(ctx context.Context, code int) (err error) {
	shallow.Run(func() { err = c.Channel.Progress(ctx, code) })
	return err
}

// Audio returns the call's audio for an application. When the call has no media yet and
// answer is true, it answers the call first (an app that plays to an unanswered call without
// early media answers it, as in Asterisk); with answer false it fails with ErrNoMedia.
func (c *Call) Audio(ctx context.Context, answer bool) (media.Audio, error) {
	s := c.Media()
	if s == nil && answer && !c.Answered() {
		if err := c.Answer(ctx); err != nil {
			return nil, fmt.Errorf("answer: %w", err)
		}
		s = c.Media()
	}
	if s == nil {
		return nil, ErrNoMedia
	}
	return s, nil
}
