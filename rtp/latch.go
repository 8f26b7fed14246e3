package rtp

import (
	"log/slog"
	"net/netip"
	"time"

	"github.com/pion/rtp"
)

// latchPackets is how many packets in sequence (one SSRC, each sequence number at most
// latchSeqGap past the one before) a source other than the SDP's address must send to be
// latched.
const latchPackets = 3

// latchSeqGap is the largest sequence step that still continues a candidate's run: it lets a
// run survive up to latchSeqGap-1 lost packets.
const latchSeqGap = 4

// latchWindow is how long after Open or SetRemote a source other than the SDP's address may
// be latched.
const latchWindow = 10 * time.Second

// maxCandidates bounds the sources (one per IP address) counted at once before latching.
const maxCandidates = 8

// candidate is an IP address other than the SDP's that is sending packets before latching:
// the run of packets in sequence from one of its ports with one SSRC.
type candidate struct {
	from netip.AddrPort
	ssrc uint32
	seq  uint16        // of the run's last packet
	n    int           // packets in the run; 0 is a free slot
	last time.Duration // arrival of the last packet counted (since Session.start)
}

// candidates is the bounded table of latch candidates for one route (read loop only).
type candidates struct {
	since time.Duration // the route's: a route replaced by SetRemote empties the table
	c     [maxCandidates]candidate
}

// negotiated reports whether pt is one of the route's payload types.
func (r *route) negotiated(pt uint8) bool {
	if r.hasTE && r.te.PT == pt {
		return true
	}
	for _, f := range r.formats {
		if f.PT == pt {
			return true
		}
	}
	return false
}

// admit decides, for symmetric RTP, whether a packet from from is the peer's, latching the
// session's destination to its source when it should; it returns the route to use.
//
// Only packets with a negotiated payload type can latch. A packet from the SDP's IP address
// latches at once (NAT may have changed the port), even over a source latched before. Any other
// source must send latchPackets packets in sequence (see count) within latchWindow of the
// route's installation. Once latched, every other source is dropped.
func (s *Session) admit(r *route, from netip.AddrPort, pkt *rtp.Packet, now time.Time) (*route, bool) {
	if r.latched && from == r.dst {
		return r, true
	}
	if !r.negotiated(pkt.PayloadType) {
		return r, false
	}
	if r.sdpDst.IsValid() && from.Addr() == r.sdpDst.Addr() {
		if r.latched && r.dst.Addr() == r.sdpDst.Addr() {
			return r, false // another port of the SDP's host, once one is latched
		}
		return s.latch(r, from), true
	}
	at := now.Sub(s.start)
	if r.latched || at-r.since > latchWindow {
		return r, false
	}
	if s.cands == nil {
		s.cands = &candidates{since: r.since} // most sessions never need one
	} else if s.cands.since != r.since {
		*s.cands = candidates{since: r.since}
	}
	if s.cands.count(from, pkt, at) < latchPackets {
		return r, false
	}
	*s.cands = candidates{since: r.since}
	return s.latch(r, from), true
}

// count adds the packet to its IP address's run and returns the run's length.
//
// Runs are kept per IP address, so packets from other addresses (an attacker interleaving
// its own) neither break nor reset a peer's run. Within one address:
//   - the same port and SSRC with a sequence number 1 to latchSeqGap past the run's last
//     packet extends the run; the same sequence number again (a duplicate) changes nothing;
//   - another port, once the run has two packets, is ignored (a stranger behind the same
//     address does not break the run); before that it starts a new run;
//   - anything else (another SSRC, a sequence jump) starts a new run of one.
//
// A new address takes a free slot; when the table is full it replaces the shortest run,
// the least recently heard among equals.
func (t *candidates) count(from netip.AddrPort, pkt *rtp.Packet, at time.Duration) int {
	slot := -1
	for i := range t.c {
		c := &t.c[i]
		if c.n > 0 && c.from.Addr() == from.Addr() {
			slot = i
			break
		}
	}
	if slot >= 0 {
		c := &t.c[slot]
		switch step := pkt.SequenceNumber - c.seq; {
		case c.from != from && c.n >= 2:
			return 0
		case c.from == from && c.ssrc == pkt.SSRC && step == 0:
			return c.n
		case c.from == from && c.ssrc == pkt.SSRC && step <= latchSeqGap:
			c.n++
			c.seq, c.last = pkt.SequenceNumber, at
			return c.n
		}
		*c = candidate{from: from, ssrc: pkt.SSRC, seq: pkt.SequenceNumber, n: 1, last: at}
		return 1
	}
	for i := range t.c {
		c := &t.c[i]
		if slot < 0 || c.n < t.c[slot].n || (c.n == t.c[slot].n && c.last < t.c[slot].last) {
			slot = i
		}
	}
	t.c[slot] = candidate{from: from, ssrc: pkt.SSRC, seq: pkt.SequenceNumber, n: 1, last: at}
	return 1
}

// latch makes the packet's source the session's destination (symmetric RTP).
func (s *Session) latch(r *route, from netip.AddrPort) *route {
	n := *r
	n.latched = true
	n.dst = from
	if !n.rtcpDst.IsValid() || n.rtcpDst.Addr() != from.Addr() || !n.send {
		n.rtcpDst = netip.AddrPortFrom(from.Addr(), from.Port()+1)
	}
	n.send = r.send || (!r.dst.IsValid() && !r.hold)
	if s.route.CompareAndSwap(r, &n) {
		if l := s.logger(slog.LevelDebug); l != nil {
			l.Debug("rtp latched", "from", from)
		}
		return &n
	}
	return s.route.Load()
}
