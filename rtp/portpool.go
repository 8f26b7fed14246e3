package rtp

import (
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
)

// portPool hands out even RTP ports with the following odd port for RTCP. Each open starts
// its search for a free pair at a random index, so the ports of the next call cannot be
// predicted from the last one (and a port just released is rarely reused at once).
type portPool struct {
	bind  netip.Addr
	first int // first even port

	mu   sync.Mutex
	used []bool // by pair index
}

func newPortPool(bind netip.Addr, min, max int) *portPool {
	first := min + min%2
	pairs := (max - first + 1) / 2
	return &portPool{bind: bind, first: first, used: make([]bool, pairs)}
}

// open binds a free pair, searching from a random index. A pair the OS refuses (used by
// another process) is skipped. When none can be bound it returns ErrNoPort at once.
func (p *portPool) open() (rtpConn, rtcpConn *net.UDPConn, idx int, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := len(p.used)
	start := rand.IntN(n)
	for k := range n {
		i := (start + k) % n
		if p.used[i] {
			continue
		}
		port := p.first + 2*i
		a, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(p.bind, uint16(port))))
		if err != nil {
			continue
		}
		b, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(p.bind, uint16(port+1))))
		if err != nil {
			a.Close()
			continue
		}
		p.used[i] = true
		return a, b, i, nil
	}
	return nil, nil, -1, fmt.Errorf("%w: %d pairs from %d", ErrNoPort, n, p.first)
}

// release returns a pair to the pool; its sockets must be closed already.
func (p *portPool) release(idx int) {
	p.mu.Lock()
	p.used[idx] = false
	p.mu.Unlock()
}
