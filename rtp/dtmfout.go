package rtp

import (
	"context"
	"fmt"
	"time"

	"github.com/sidecar-voip/sidecar/media"
	"github.com/sidecar-voip/sidecar/rtp/dtmf"
)

// endRepeats is how many times the end packet of an event is sent (RFC 4733 section 2.5.1.4).
const endRepeats = 3

// eventVolume is the volume sent with events, in -dBm0.
const eventVolume = 10

// dtmfSend is one SendDTMF in progress; the clock goroutine advances it.
type dtmfSend struct {
	code   uint8
	total  uint16 // duration in timestamp units
	dur    uint16 // duration sent so far
	ends   int
	ts     uint32
	next   time.Time
	marked bool
	buf    []byte
	done   chan error
}

func (d *dtmfSend) finish(err error) {
	select {
	case d.done <- err:
	default:
	}
}

// SendDTMF sends one digit as RFC 4733 telephone-events: an event packet every ptime with the
// growing duration, the first with the marker bit, then three end packets. Audio playback
// pauses meanwhile. It returns when the last packet is sent, or media.ErrNoTelephoneEvent when the
// peer did not negotiate telephone-event.
func (s *Session) SendDTMF(ctx context.Context, digit rune, dur time.Duration) error {
	code, ok := dtmf.Code(digit)
	if !ok {
		return fmt.Errorf("send dtmf: %q is not a dtmf digit", digit)
	}
	r := s.route.Load()
	if r == nil || !r.hasTE {
		return media.ErrNoTelephoneEvent
	}
	if dur < 40*time.Millisecond {
		dur = 40 * time.Millisecond
	}
	units := int64(dur) * int64(r.te.ClockRate) / int64(time.Second)
	if units > 0xffff {
		units = 0xffff
	}
	d := &dtmfSend{code: code, total: uint16(units), buf: make([]byte, 0, 4), done: make(chan error, 1)}
	s.mu.Lock()
	select {
	case <-s.closed:
		s.mu.Unlock()
		return media.ErrClosed
	default:
	}
	if s.dtmfOut != nil {
		s.mu.Unlock()
		return fmt.Errorf("send dtmf: a digit is already being sent")
	}
	s.dtmfOut = d
	s.mu.Unlock()
	select {
	case err := <-d.done:
		return err
	case <-ctx.Done():
		s.mu.Lock()
		if s.dtmfOut == d {
			// An event already started must still end (RFC 4733 section 2.5.1.4).
			if r := s.route.Load(); r != nil && r.hasTE && d.marked {
				s.tx.mu.Lock()
				for d.ends < endRepeats {
					d.ends++
					s.eventPacket(d, r, true)
				}
				s.tx.mu.Unlock()
			}
			s.dtmfOut = nil
			s.resumePlay()
		}
		s.mu.Unlock()
		return ctx.Err()
	}
}

// resumePlay makes a playout paused by an event start again at the stream clock, as a new
// talk spurt (marker set). Callers hold s.mu.
func (s *Session) resumePlay() {
	if p := s.play; p != nil && p.started {
		p.started, p.marked = false, false
	}
}

// eventPacket sends one packet of d, with the duration reached so far. Callers hold s.mu and
// s.tx.mu.
func (s *Session) eventPacket(d *dtmfSend, r *route, end bool) {
	ev := dtmf.Event{Code: d.code, End: end, Volume: eventVolume, Duration: d.dur}
	d.buf = ev.Append(d.buf[:0])
	s.send(r, r.te.PT, !d.marked, d.ts, uint32(d.dur), d.buf)
	d.marked = true
}

// sendEvent sends the next packet of d. Callers hold s.mu.
func (s *Session) sendEvent(d *dtmfSend, r *route, now time.Time) {
	step := uint16(int64(r.te.ClockRate) * int64(r.ptime) / int64(time.Second))
	s.tx.mu.Lock()
	defer s.tx.mu.Unlock()
	if d.next.IsZero() {
		d.next = now
		d.ts = s.clockTS(now, r.te.ClockRate)
	}
	end := false
	if d.dur < d.total {
		d.dur = min(d.total, d.dur+step)
	} else {
		end = true
		d.ends++
	}
	s.eventPacket(d, r, end)
	d.next = d.next.Add(r.ptime)
	if d.ends >= endRepeats {
		s.dtmfOut = nil
		s.resumePlay() // audio resumes after the event, at the stream clock
		d.finish(nil)
	}
}
