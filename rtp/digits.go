package rtp

import (
	"log/slog"
	"sync"
	"time"

	"github.com/sidecar-voip/sidecar/media"
	"github.com/sidecar-voip/sidecar/rtp/dtmf"
)

// digitQueue bounds the digits waiting for an app; more are dropped.
const digitQueue = 32

// digitBox is the session's digit queue, made on first use: most calls never see a digit,
// and the queue (1 KB) would otherwise be held by every active call.
type digitBox struct {
	mu   sync.Mutex
	ch   chan media.Digit // the queue; nil until an app asks for it or a digit arrives
	hash chan struct{}    // while Echo runs without a queue: told of '#' (see Session.Echo)
}

// queue returns the digit queue, making it when create is true; nil otherwise when none exists.
func (b *digitBox) queue(create bool) chan media.Digit {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ch == nil && create {
		b.ch = make(chan media.Digit, digitQueue)
	}
	return b.ch
}

// Digits returns the channel of received digits (RFC 4733 events and injected INFO digits,
// filtered by SetDTMFMode). It is shared by the apps that run in turn on the call.
func (s *Session) Digits() <-chan media.Digit { return s.digits.queue(true) }

// SetDTMFMode changes which digits reach Digits (media.Params.DTMFMode sets it at Open):
// "rfc4733" (or "rfc2833") keeps RTP events, "info" keeps SIP INFO, "inband" keeps inband
// tones, "auto" or "" keeps all but inband.
func (s *Session) SetDTMFMode(mode string) {
	if mode == "rfc2833" {
		mode = "rfc4733"
	}
	if mode == "" {
		mode = "auto"
	}
	for i := range dtmfModes {
		if dtmfModes[i] == mode {
			s.dtmfMode.Store(&dtmfModes[i]) // shared: no allocation per call
			return
		}
	}
	s.dtmfMode.Store(&mode)
}

// dtmfModes are the documented DTMF modes, which sessions point to; never written.
var dtmfModes = [...]string{"auto", string(media.SourceRFC4733), string(media.SourceInfo), string(media.SourceInband)}

// InjectDTMF delivers a digit received outside RTP (SIP INFO) to the session's apps. Unknown
// characters are ignored.
func (s *Session) InjectDTMF(digit rune, dur time.Duration) {
	if _, ok := dtmf.Code(digit); !ok {
		return
	}
	if digit >= 'a' && digit <= 'd' {
		digit -= 'a' - 'A'
	}
	s.deliver(media.Digit{Digit: digit, Duration: dur, Source: media.SourceInfo})
}

// FlushDigits discards digits queued before an app starts listening.
func (s *Session) FlushDigits() {
	ch := s.digits.queue(false)
	if ch == nil {
		return
	}
	for {
		select {
		case <-ch:
		default:
			return
		}
	}
}

func (s *Session) deliver(d media.Digit) {
	if m := *s.dtmfMode.Load(); m != "auto" && m != string(d.Source) {
		return
	}
	b := &s.digits
	b.mu.Lock()
	if b.ch == nil && b.hash != nil {
		// Echo runs and no app has listened yet: Echo drops every digit but '#', which
		// ends it; the queue is not made for digits nobody reads. The digits after the '#'
		// are queued for the next app.
		if d.Digit == '#' {
			b.hash <- struct{}{} // room for one, and the only send: hash is dropped below
			b.hash = nil
		}
		b.mu.Unlock()
		return
	}
	if b.ch == nil {
		b.ch = make(chan media.Digit, digitQueue)
	}
	ch := b.ch
	b.mu.Unlock()
	select {
	case ch <- d:
	default:
		if l := s.logger(slog.LevelWarn); l != nil {
			l.Warn("dtmf queue full, digit dropped")
		}
	}
}
