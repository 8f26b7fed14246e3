package rtp

import (
	"log/slog"
	"net/netip"
	"runtime/debug"
	"sync"
	"time"

	"github.com/pion/rtp"
)

// Socket kinds of a pair, as the reactor tells them apart.
const (
	kindRTP  = 0
	kindRTCP = 1
)

// pair is one RTP/RTCP port pair of the pool: two sockets bound once and kept, and the
// session that owns them now (nil while the pair is free).
//
// mu is held while a datagram of the pair is read and handled, and by attach and detach: so
// once detach returns no handler runs for the session it detached, and a pair's packets are
// handled one at a time, as the single read loop per socket did before (the handlers' "read
// loop only" state stays single-threaded).
type pair struct {
	idx, port int
	bound     bool // sockets bound and watched; owned by whoever holds the pair out of the queue

	mu        sync.Mutex
	rtp, rtcp sock
	sess      *Session
}

// sock returns the pair's socket of the given kind. Callers hold p.mu.
func (p *pair) sock(kind int) sock {
	if kind == kindRTCP {
		return p.rtcp
	}
	return p.rtp
}

// attach drains the datagrams queued on the pair (the previous call's) and makes s its owner.
func (p *pair) attach(s *Session) {
	p.mu.Lock()
	p.rtp.drain()
	p.rtcp.drain()
	p.sess = s
	p.mu.Unlock()
}

// detach makes the pair free if s owns it. Once it returns, no handler runs for s.
func (p *pair) detach(s *Session) {
	p.mu.Lock()
	if p.sess == s {
		p.sess = nil
	}
	p.mu.Unlock()
}

// handle runs the owner's handler for one datagram of the given kind. Callers hold p.mu. A
// panic in a handler ends the owner's media (Session.Done) and detaches it; the reactor
// goes on serving the other pairs.
func (p *pair) handle(kind int, b []byte, from netip.AddrPort, pkt *rtp.Packet) {
	s := p.sess
	if s == nil {
		return // a free pair: a late datagram of the previous call
	}
	defer func() {
		if r := recover(); r != nil {
			if l := s.logger(slog.LevelError); l != nil {
				l.Error("media packet handler panic", "socket", [...]string{"rtp", "rtcp"}[kind], "panic", r, "stack", string(debug.Stack()))
			}
			p.sess = nil
			s.end("internal error")
		}
	}()
	if kind == kindRTP {
		s.handleRTP(b, from, pkt, time.Now())
	} else {
		s.handleRTCP(b, from, time.Now())
	}
}
