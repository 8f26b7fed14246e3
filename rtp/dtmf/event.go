// Package dtmf handles DTMF digits: RFC 4733 telephone-event payloads (parse, build, and a
// Receiver that reports each event once despite retransmitted end packets), SIP INFO bodies
// (application/dtmf-relay, application/dtmf), and inband tones (a Goertzel detector).
package dtmf

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrMalformed reports a DTMF payload or INFO body that cannot be read.
var ErrMalformed = errors.New("malformed dtmf")

// digits maps RFC 4733 event codes 0-15 to their characters.
const digits = "0123456789*#ABCD"

// Digit returns the character of an event code, or 0 for codes that are not DTMF (flash, ...).
func Digit(code uint8) rune {
	if int(code) < len(digits) {
		return rune(digits[code])
	}
	return 0
}

// Code returns the event code of a DTMF character (case-insensitive for A-D).
func Code(digit rune) (uint8, bool) {
	i := strings.IndexRune(digits, toUpper(digit))
	if i < 0 {
		return 0, false
	}
	return uint8(i), true
}

func toUpper(r rune) rune {
	if r >= 'a' && r <= 'd' {
		return r - 'a' + 'A'
	}
	return r
}

// Event is one RFC 4733 telephone-event payload (section 2.3).
type Event struct {
	Code     uint8
	End      bool
	Volume   uint8 // 0 to 63, in -dBm0
	Duration uint16
}

// ParseEvent reads a 4-byte telephone-event payload. Several events in one payload (RFC 4733
// section 2.5.1.5) are not used by DTMF senders; the first is returned.
func ParseEvent(p []byte) (Event, error) {
	if len(p) < 4 {
		return Event{}, fmt.Errorf("%w: telephone-event payload of %d bytes", ErrMalformed, len(p))
	}
	return Event{Code: p[0], End: p[1]&0x80 != 0, Volume: p[1] & 0x3f, Duration: uint16(p[2])<<8 | uint16(p[3])}, nil
}

// Append appends the 4-byte payload of e to dst.
func (e Event) Append(dst []byte) []byte {
	b := e.Volume & 0x3f
	if e.End {
		b |= 0x80
	}
	return append(dst, e.Code, b, byte(e.Duration>>8), byte(e.Duration))
}

// Receiver turns a stream of telephone-event packets into digits, each reported once: an
// event is identified by its RTP timestamp and event code, reported on its first end packet (the end is
// retransmitted, usually three times), or, when all its end packets were lost, as soon as the
// next event starts.
type Receiver struct {
	ts       uint32
	code     uint8
	dur      uint16
	active   bool // an event with timestamp ts has been seen
	reported bool
}

// Handle processes one packet's event with its RTP timestamp; emit receives each new digit
// and its duration in timestamp units.
func (r *Receiver) Handle(ts uint32, e Event, emit func(digit rune, units uint16)) {
	if r.active && ts == r.ts && e.Code == r.code {
		if e.Duration > r.dur {
			r.dur = e.Duration
		}
		if e.End && !r.reported {
			r.reported = true
			r.emit(emit)
		}
		return
	}
	if r.active && !r.reported {
		r.emit(emit) // the previous event lost its end packets
	}
	*r = Receiver{ts: ts, code: e.Code, dur: e.Duration, active: true}
	if e.End {
		r.reported = true
		r.emit(emit)
	}
}

func (r *Receiver) emit(f func(rune, uint16)) {
	if d := Digit(r.code); d != 0 {
		f(d, r.dur)
	}
}

// UnitsToDuration converts a duration in timestamp units at rate Hz.
func UnitsToDuration(units uint16, rate int) time.Duration {
	if rate <= 0 {
		return 0
	}
	return time.Duration(units) * time.Second / time.Duration(rate)
}
