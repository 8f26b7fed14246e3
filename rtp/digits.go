package rtp

import (
	"time"

	"github.com/sidecar-voip/sidecar/media"
	"github.com/sidecar-voip/sidecar/rtp/dtmf"
)

// digitQueue bounds the digits waiting for an app; more are dropped.
const digitQueue = 32

// Digits returns the channel of received digits (RFC 4733 events and injected INFO digits,
// filtered by SetDTMFMode). It is shared by the apps that run in turn on the call.
func (s *Session) Digits() <-chan media.Digit { return s.digits }

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
	s.dtmfMode.Store(&mode)
}

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
	for {
		select {
		case <-s.digits:
		default:
			return
		}
	}
}

func (s *Session) deliver(d media.Digit) {
	if m := *s.dtmfMode.Load(); m != "auto" && m != string(d.Source) {
		return
	}
	select {
	case s.digits <- d:
	default:
		s.log.Warn("dtmf queue full, digit dropped")
	}
}
