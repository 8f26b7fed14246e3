package rtp

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/pion/rtp"

	"github.com/sidecar-voip/sidecar/media"
	"github.com/sidecar-voip/sidecar/rtp/codec"
	"github.com/sidecar-voip/sidecar/rtp/sdp"
)

// sender is the session's outgoing stream: one SSRC, one sequence, one timestamp line. Audio,
// telephone-events and echoed packets all take their timestamps from one stream clock
// (clockTS), so the stream never goes back in time whatever the apps do in turn.
type sender struct {
	mu         sync.Mutex
	ssrc       uint32
	seq        uint16 // of the next packet written
	tsBase     uint32 // timestamp at the session's start
	sentAny    bool   // a packet was written: lastTS and nextTS are set
	lastTS     uint32 // timestamp of the last packet written
	nextTS     uint32 // end of what the last packet covers: no later packet starts before it
	skipped    bool   // a packet was not written (hold): the next one written gets the marker
	echoSync   bool   // the next echoed packet re-bases echoOffset on the stream clock
	echoSSRC   uint32 // the caller SSRC echoOffset was based on
	echoOffset uint32 // added to echoed timestamps
	lastSent   time.Time
	packets    uint32
	octets     uint32
	hdr        rtp.Header
}

// sendBufs holds the buffers packets are built in: shared by the sessions rather than one
// 1.5 KB buffer in every session (a session sends from one goroutine at a time, briefly).
var sendBufs = sync.Pool{New: func() any { return new([maxPacket]byte) }}

func (t *sender) init() {
	t.ssrc = rand.Uint32()
	t.seq = uint16(rand.Uint32())
	t.tsBase = rand.Uint32()
}

// clockTS returns the stream clock at now: tsBase plus the time since the session started at
// rate, but never before the end of what was already sent. Callers hold s.tx.mu.
func (s *Session) clockTS(now time.Time, rate int) uint32 {
	t := &s.tx
	ts := t.tsBase + uint32(int64(now.Sub(s.start))*int64(rate)/int64(time.Second))
	if t.sentAny && int32(ts-t.nextTS) < 0 {
		ts = t.nextTS
	}
	return ts
}

// wrote records a packet written at ts covering span timestamp units. Callers hold s.tx.mu.
func (t *sender) wrote(ts, span uint32, octets int) {
	t.seq++
	t.packets++
	t.octets += uint32(octets)
	t.sentAny, t.lastTS, t.nextTS = true, ts, ts+span
	t.skipped = false
	t.lastSent = time.Now()
}

// send writes one packet to dst; span is the timestamp units it covers. On hold nothing is
// written and the sequence does not advance; the next packet written carries the marker.
// Callers hold t.mu.
func (s *Session) send(r *route, pt uint8, marker bool, ts, span uint32, payload []byte) {
	t := &s.tx
	if !r.send || !r.dst.IsValid() {
		t.skipped = true
		return // on hold: the stream keeps its timing but nothing goes out
	}
	t.hdr = rtp.Header{Version: 2, Marker: marker || t.skipped, PayloadType: pt, SequenceNumber: t.seq, Timestamp: ts, SSRC: t.ssrc}
	buf := sendBufs.Get().(*[maxPacket]byte)
	defer sendBufs.Put(buf)
	n, err := t.hdr.MarshalTo(buf[:])
	if err != nil || n+len(payload) > len(buf) {
		return
	}
	n += copy(buf[n:], payload)
	if err := s.write(kindRTP, buf[:n], r.dst); err == nil {
		t.wrote(ts, span, len(payload))
	}
}

// playout is one Play call in progress; the clock goroutine advances it.
type playout struct {
	src     media.Source
	format  sdp.Format
	enc     codec.Encoder
	frame   []int16
	payload []byte
	step    uint32 // timestamp units per packet
	next    time.Time
	ts      uint32
	started bool
	marked  bool // the talk-spurt marker has been sent
	done    chan error
}

func (p *playout) finish(err error) {
	select {
	case p.done <- err:
	default:
	}
}

// encodable returns the first negotiated format the sidecar can encode, with its codec.
func encodable(r *route) (sdp.Format, codec.Codec, bool) {
	for _, f := range r.formats {
		if c, ok := codec.Lookup(f.Name); ok {
			return f, c, true
		}
	}
	return sdp.Format{}, codec.Codec{}, false
}

// SampleRate returns the sample rate Play expects from its Source (8000 for G.711, 16000 for
// G.722), or 0 when no negotiated codec can be encoded.
func (s *Session) SampleRate() int {
	r := s.route.Load()
	if r == nil {
		return 0
	}
	_, c, ok := encodable(r)
	if !ok {
		return 0
	}
	return c.SampleRate
}

// Play sends src's audio, encoded with the first negotiated codec the sidecar can encode, one
// packet per ptime paced by the engine's clock, with the marker bit on the first packet. It
// returns nil when src ends, ctx.Err() when ctx ends, media.ErrInterrupted when another Play
// replaces it, media.ErrClosed when the session closes, media.ErrNoEncoder with only passthrough codecs.
func (s *Session) Play(ctx context.Context, src media.Source) error {
	r := s.route.Load()
	if r == nil {
		return media.ErrNoEncoder
	}
	f, c, ok := encodable(r)
	if !ok {
		return media.ErrNoEncoder
	}
	samples := c.SampleRate * int(r.ptime/time.Millisecond) / 1000
	p := &playout{
		src:     src,
		format:  f,
		enc:     c.NewEncoder(),
		frame:   make([]int16, samples),
		payload: make([]byte, 0, samples*2),
		step:    uint32(f.ClockRate * int(r.ptime/time.Millisecond) / 1000),
		done:    make(chan error, 1),
	}
	s.mu.Lock()
	select {
	case <-s.closed:
		s.mu.Unlock()
		return media.ErrClosed
	default:
	}
	if s.play != nil {
		s.play.finish(media.ErrInterrupted)
	}
	s.play = p
	s.mu.Unlock()
	select {
	case err := <-p.done:
		return err
	case <-ctx.Done():
		s.mu.Lock()
		if s.play == p {
			s.play = nil
		}
		s.mu.Unlock()
		return ctx.Err()
	}
}

// tick is called by the shared clock every tickInterval. It sends only with s.mu held and
// the session not closed: Close takes s.mu after closing s.closed, so no tick writes to the
// pair once Close has given it back to the pool (where the next call may already use it).
func (s *Session) tick(now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case <-s.closed:
		return
	default:
	}
	r := s.route.Load()
	if d := s.dtmfOut; d != nil && r != nil {
		if d.next.IsZero() || !now.Before(d.next) {
			s.sendEvent(d, r, now)
		}
	} else if p := s.play; p != nil && r != nil {
		s.advance(p, r, now)
	}
	at := now.Sub(s.start)
	if s.nextRTCP == 0 {
		s.nextRTCP = at + rtcpDelay()/2 // the first report after half an interval (RFC 3550 6.2)
	}
	rtcpDue := at >= s.nextRTCP
	if rtcpDue {
		s.nextRTCP = at + rtcpDelay()
	}

	// Without a route (a late offer) the clock runs only once the answer has failed: while
	// the call rings or its 200 awaits the ACK, no RTP is due (see answerFailed).
	if t := s.engine.cfg.Timeout; t > 0 && s.timed(r) {
		if idle := now.Sub(s.start) - time.Duration(s.lastRx.Load()); idle > t {
			s.end("rtp timeout")
		}
	}
	if rtcpDue && r != nil {
		s.sendReport(r, now)
	}
}

// timed reports whether the inactivity timeout applies to a session whose route is r.
func (s *Session) timed(r *route) bool {
	if r == nil {
		return s.noAnswer.Load()
	}
	return !r.hold
}

// advance sends the frames of p that are due. Callers hold s.mu.
func (s *Session) advance(p *playout, r *route, now time.Time) {
	if !p.started {
		p.started = true
		p.next = now
		s.tx.mu.Lock()
		p.ts = s.clockTS(now, p.format.ClockRate)
		s.tx.mu.Unlock()
	}
	if now.Sub(p.next) > 4*r.ptime {
		p.next = now // too far behind (stalled clock): resynchronize, do not burst
	}
	for !now.Before(p.next) {
		n, err := p.src.ReadFrame(p.frame)
		if n == 0 && err != nil {
			s.play = nil
			if errors.Is(err, io.EOF) {
				err = nil
			}
			p.finish(err)
			return
		}
		clear(p.frame[n:])
		p.payload = p.enc.Encode(p.payload[:0], p.frame)
		s.tx.mu.Lock()
		s.send(r, p.format.PT, !p.marked, p.ts, p.step, p.payload)
		s.tx.mu.Unlock()
		p.marked = true
		p.ts += p.step
		p.next = p.next.Add(r.ptime)
		if err != nil {
			s.play = nil
			if errors.Is(err, io.EOF) {
				err = nil
			}
			p.finish(err)
			return
		}
	}
}
