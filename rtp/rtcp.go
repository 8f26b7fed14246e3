package rtp

import (
	"encoding/binary"
	"math/rand/v2"
	"net/netip"
	"time"

	"github.com/pion/rtcp"
	"github.com/sidecar-voip/sidecar/media"
)

// rtcpInterval is the mean period of the session's RTCP reports (RFC 3550's 5 s minimum).
const rtcpInterval = 5 * time.Second

// rtcpDelay returns the time to the next report: rtcpInterval times a random factor in
// [0.5, 1.5), so that sessions opened together do not report in step (RFC 3550 section 6.3.1).
func rtcpDelay() time.Duration {
	return rtcpInterval/2 + rand.N(rtcpInterval)
}

// ntpEpochOffset is the number of seconds from 1900 (NTP) to 1970 (Unix).
const ntpEpochOffset = 2208988800

func ntpTime(t time.Time) uint64 {
	secs := uint64(t.Unix()) + ntpEpochOffset
	frac := uint64(t.Nanosecond()) << 32 / uint64(time.Second)
	return secs<<32 | frac
}

// Stats are a session's RTP counters; loss and jitter are computed as in RFC 3550 A.3 and A.8.
type Stats struct {
	PacketsSent     uint32
	OctetsSent      uint32
	PacketsReceived uint32
	// PacketsLost is the cumulative number lost (expected minus received; negative with duplicates).
	PacketsLost int64
	// Jitter is the interarrival jitter of the peer's audio.
	Jitter time.Duration
	// Dropped counts datagrams discarded: malformed, or from a source other than the latched one.
	Dropped uint32
	// RemoteLost and RemoteJitter are what the peer's last RTCP report says about our stream.
	RemoteLost   int32
	RemoteJitter time.Duration
}

func (t *Stats) add(s Stats) {
	t.PacketsSent += s.PacketsSent
	t.OctetsSent += s.OctetsSent
	t.PacketsReceived += s.PacketsReceived
	t.PacketsLost += s.PacketsLost
	t.Dropped += s.Dropped
}

// Counters returns the session's RTP counters in the media contract's terms.
func (s *Session) Counters() media.Counters {
	st := s.Stats()
	return media.Counters{Sent: st.PacketsSent, Received: st.PacketsReceived, Lost: st.PacketsLost, Jitter: st.Jitter}
}

var _ media.Counted = (*Session)(nil)

// Stats returns a snapshot of the session's counters.
func (s *Session) Stats() Stats {
	s.tx.mu.Lock()
	st := Stats{PacketsSent: s.tx.packets, OctetsSent: s.tx.octets}
	s.tx.mu.Unlock()
	x := &s.rx
	x.mu.Lock()
	defer x.mu.Unlock()
	st.PacketsReceived = x.received
	st.PacketsLost = int64(x.expected()) - int64(x.received)
	st.Dropped = x.drops
	st.RemoteLost = x.remoteLost
	if x.rate > 0 {
		st.Jitter = time.Duration(x.jitter * float64(time.Second) / float64(x.rate))
		st.RemoteJitter = time.Duration(int64(x.remoteJitter) * int64(time.Second) / int64(x.rate))
	}
	return st
}

// report builds the reception report block for the peer's SSRC, updating the interval counters.
func (x *rxStats) report(now time.Time) (rtcp.ReceptionReport, bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if !x.started {
		return rtcp.ReceptionReport{}, false
	}
	expected := x.expected()
	lost := int64(expected) - int64(x.received)
	lost = max(min(lost, 0x7fffff), -0x800000)
	expInt := expected - x.expectedPrior
	recInt := x.received - x.receivedPrior
	x.expectedPrior, x.receivedPrior = expected, x.received
	var frac uint8
	if expInt > 0 && expInt > recInt {
		frac = uint8((expInt - recInt) << 8 / expInt)
	}
	rr := rtcp.ReceptionReport{
		SSRC:               x.ssrc,
		FractionLost:       frac,
		TotalLost:          uint32(lost) & 0xffffff,
		LastSequenceNumber: x.cycles + uint32(x.maxSeq),
		Jitter:             uint32(x.jitter),
	}
	if !x.lastSRAt.IsZero() {
		rr.LastSenderReport = x.lastSR
		rr.Delay = uint32(now.Sub(x.lastSRAt) * 65536 / time.Second)
	}
	return rr, true
}

// sendReport sends an SR (when we sent RTP since the last report) or an RR, with SDES CNAME.
func (s *Session) sendReport(r *route, now time.Time) {
	if !r.rtcpDst.IsValid() || !r.send && !r.latched {
		return
	}
	var reports []rtcp.ReceptionReport
	if rr, ok := s.rx.report(now); ok {
		reports = append(reports, rr)
	}
	rate := 8000
	if len(r.formats) > 0 {
		rate = r.formats[0].ClockRate
	}
	s.tx.mu.Lock()
	ssrc, sent, packets, octets := s.tx.ssrc, !s.tx.lastSent.IsZero() && now.Sub(s.tx.lastSent) < 2*rtcpInterval, s.tx.packets, s.tx.octets
	ts := s.clockTS(now, rate) // the stream clock: what a packet sent now would carry
	s.tx.mu.Unlock()
	var first rtcp.Packet
	if sent {
		first = &rtcp.SenderReport{SSRC: ssrc, NTPTime: ntpTime(now), RTPTime: ts, PacketCount: packets, OctetCount: octets, Reports: reports}
	} else {
		first = &rtcp.ReceiverReport{SSRC: ssrc, Reports: reports}
	}
	b, err := rtcp.Marshal([]rtcp.Packet{first, rtcp.NewCNAMESourceDescription(ssrc, "sidecar@"+s.engine.cfg.Address.String())})
	if err != nil {
		return
	}
	_ = s.write(kindRTCP, b, r.rtcpDst)
}

// handleRTCP reads one compound RTCP packet; malformed ones are dropped.
func (s *Session) handleRTCP(b []byte, from netip.AddrPort, now time.Time) {
	pkts, err := rtcp.Unmarshal(b)
	if err != nil {
		s.rx.dropped()
		return
	}
	if s.engine.cfg.Symmetric {
		// Only the host RTP goes to (the latched source or the SDP's) may report or move
		// the RTCP destination.
		from = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
		r := s.route.Load()
		if r == nil || from.Addr() != r.dst.Addr() && (!r.sdpDst.IsValid() || from.Addr() != r.sdpDst.Addr()) {
			s.rx.dropped()
			return
		}
		if r.rtcpDst != from {
			n := *r
			n.rtcpDst = from
			s.route.CompareAndSwap(r, &n)
		}
	}
	s.tx.mu.Lock()
	ours := s.tx.ssrc
	s.tx.mu.Unlock()
	x := &s.rx
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, p := range pkts {
		var blocks []rtcp.ReceptionReport
		switch p := p.(type) {
		case *rtcp.SenderReport:
			x.lastSR = uint32(p.NTPTime >> 16)
			x.lastSRAt = now
			blocks = p.Reports
		case *rtcp.ReceiverReport:
			blocks = p.Reports
		}
		for _, rr := range blocks {
			if rr.SSRC != ours {
				continue
			}
			lost := int32(rr.TotalLost<<8) >> 8 // 24-bit signed
			x.remoteLost, x.remoteFrac, x.remoteJitter = lost, rr.FractionLost, rr.Jitter
		}
	}
}

// sendBye tells the peer the stream ends (RTCP BYE after a receiver report, RFC 3550 6.6).
func (s *Session) sendBye() {
	r := s.route.Load()
	if r == nil || !r.rtcpDst.IsValid() || !r.send && !r.latched {
		return
	}
	s.tx.mu.Lock()
	ssrc := s.tx.ssrc
	s.tx.mu.Unlock()
	var buf [byeLen]byte
	_ = s.write(kindRTCP, appendBye(buf[:0], ssrc), r.rtcpDst)
}

// byeLen is the length of appendBye's compound packet.
const byeLen = 16

// appendBye appends the compound RTCP packet sendBye sends: an empty receiver report from
// ssrc, then a BYE of ssrc without a reason (RFC 3550 6.4.2, 6.6), the bytes rtcp.Marshal
// writes for them, without its allocations.
func appendBye(b []byte, ssrc uint32) []byte {
	b = append(b, 0x80, byte(rtcp.TypeReceiverReport), 0, 1) // V=2, no report blocks, length 1 word
	b = binary.BigEndian.AppendUint32(b, ssrc)
	b = append(b, 0x81, byte(rtcp.TypeGoodbye), 0, 1) // V=2, one source, length 1 word
	return binary.BigEndian.AppendUint32(b, ssrc)
}
