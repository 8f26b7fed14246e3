package rtp

import (
	"context"
	"encoding/binary"
	"net/netip"
	"sync"
	"time"

	"github.com/pion/rtp"

	"github.com/sidecar-voip/sidecar/media"
	"github.com/sidecar-voip/sidecar/rtp/dtmf"
)

// maxPacket is the read buffer size: larger datagrams are truncated and dropped.
const maxPacket = 1500

// handleRTP processes one datagram. It never panics on bad input: malformed packets are dropped.
func (s *Session) handleRTP(b []byte, from netip.AddrPort, pkt *rtp.Packet, now time.Time) {
	if err := pkt.Unmarshal(b); err != nil || pkt.Version != 2 {
		s.rx.dropped()
		return
	}
	r := s.route.Load()
	if r == nil {
		return
	}
	from = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
	if s.engine.cfg.Symmetric {
		var ok bool
		if r, ok = s.admit(r, from, pkt, now); !ok {
			s.rx.dropped()
			return
		}
	}
	s.lastRx.Store(int64(now.Sub(s.start)))
	rate := 8000
	if len(r.formats) > 0 {
		rate = r.formats[0].ClockRate
	}
	isTE := r.hasTE && pkt.PayloadType == r.te.PT
	s.rx.update(pkt, now.Sub(s.start), rate, !isTE)

	if s.echo.Load() && r.send {
		s.echoPacket(b, pkt, r)
	}
	if !isTE {
		s.detectInband(pkt.PayloadType, pkt.Payload, r)
		if rec := s.rec.Load(); rec != nil {
			rec.packet(pkt, r)
		}
		return
	}
	{
		ev, err := dtmf.ParseEvent(pkt.Payload)
		if err != nil {
			return
		}
		s.dtmfRx.Handle(pkt.Timestamp, ev, func(d rune, units uint16) {
			s.deliver(media.Digit{Digit: d, Duration: dtmf.UnitsToDuration(units, r.te.ClockRate), Source: media.SourceRFC4733})
		})
	}
}

// echoPacket sends a received packet back with the session's SSRC and sequence, its
// timestamp shifted by a constant: payload and marker are untouched. The constant is chosen
// when Echo starts (and when the caller's SSRC changes) so that the first echoed packet
// continues the session's stream clock; that packet carries the marker. b is rewritten in
// place (header bytes only) and sent.
func (s *Session) echoPacket(b []byte, pkt *rtp.Packet, r *route) {
	if len(b) < 12 || len(b) > maxPacket || !r.dst.IsValid() {
		return
	}
	rate := 8000
	if len(r.formats) > 0 {
		rate = r.formats[0].ClockRate
	}
	now := time.Now()
	s.tx.mu.Lock()
	defer s.tx.mu.Unlock()
	out := b // rewritten in place: the handlers after echo read pkt, whose header is parsed already
	if s.tx.echoSync || pkt.SSRC != s.tx.echoSSRC {
		s.tx.echoSync, s.tx.echoSSRC = false, pkt.SSRC
		s.tx.echoOffset = s.clockTS(now, rate) - pkt.Timestamp
		out[1] |= 0x80 // marker: the stream jumps to the caller's timing
	}
	ts := pkt.Timestamp + s.tx.echoOffset
	binary.BigEndian.PutUint16(out[2:], s.tx.seq)
	binary.BigEndian.PutUint32(out[4:], ts)
	binary.BigEndian.PutUint32(out[8:], s.tx.ssrc)
	if err := s.write(kindRTP, out, r.dst); err == nil {
		s.tx.wrote(ts, uint32(int64(rate)*int64(r.ptime)/int64(time.Second)), len(pkt.Payload))
	}
}

// Echo sends every packet received back to the peer (audio and telephone-event alike) until
// ctx ends, the session closes, or the peer presses '#' (as Asterisk's Echo does). It never
// decodes, so it works with passthrough codecs.
func (s *Session) Echo(ctx context.Context) error {
	s.tx.mu.Lock()
	s.tx.echoSync = true
	s.tx.mu.Unlock()
	// Without a digit queue (no app listened, no digit came), Echo waits for '#' alone and
	// the queue is not made (see deliver); with one, it reads and drops the queued digits.
	b := &s.digits
	b.mu.Lock()
	ch, hash := b.ch, chan struct{}(nil)
	if ch == nil {
		hash = make(chan struct{}, 1)
		b.hash = hash
	}
	b.mu.Unlock()
	if hash != nil {
		defer func() {
			b.mu.Lock()
			b.hash = nil
			b.mu.Unlock()
		}()
	}
	s.echo.Store(true)
	defer s.echo.Store(false)
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-s.closed:
			return media.ErrClosed
		case <-hash:
			return nil
		case d := <-ch:
			if d.Digit == '#' {
				return nil
			}
		}
	}
}

// rxStats are the reception statistics of RFC 3550 appendix A for the peer's SSRC.
type rxStats struct {
	mu            sync.Mutex
	started       bool
	ssrc          uint32
	baseSeq       uint32
	maxSeq        uint16
	cycles        uint32
	received      uint32
	drops         uint32
	expectedPrior uint32
	receivedPrior uint32
	transit       int64
	jitter        float64 // in timestamp units
	rate          int
	lastSR        uint32 // middle 32 bits of the last SR's NTP time
	lastSRAt      time.Time
	remoteLost    int32
	remoteFrac    uint8
	remoteJitter  uint32
}

func (x *rxStats) dropped() {
	x.mu.Lock()
	x.drops++
	x.mu.Unlock()
}

func (x *rxStats) update(p *rtp.Packet, arrival time.Duration, rate int, audio bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	seq := p.SequenceNumber
	if !x.started || p.SSRC != x.ssrc {
		// A new source restarts the sequence statistics (RFC 3550 A.1).
		x.started, x.ssrc, x.baseSeq, x.maxSeq, x.cycles = true, p.SSRC, uint32(seq), seq, 0
		x.received, x.expectedPrior, x.receivedPrior, x.transit, x.jitter = 0, 0, 0, 0, 0
	} else if delta := seq - x.maxSeq; delta != 0 && delta < 0x8000 {
		if seq < x.maxSeq {
			x.cycles += 1 << 16
		}
		x.maxSeq = seq
	}
	x.received++
	if !audio {
		return
	}
	x.rate = rate
	at := int64(arrival) * int64(rate) / int64(time.Second)
	transit := at - int64(p.Timestamp)
	if x.transit != 0 {
		d := transit - x.transit
		if d < 0 {
			d = -d
		}
		x.jitter += (float64(d) - x.jitter) / 16
	}
	x.transit = transit
}

// expected returns the packets expected from the sequence numbers seen.
func (x *rxStats) expected() uint32 {
	if !x.started {
		return 0
	}
	return x.cycles + uint32(x.maxSeq) - x.baseSeq + 1
}
