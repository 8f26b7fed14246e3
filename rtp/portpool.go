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
//
// The lock only guards the used flags: a pair is reserved under it and bound after it is
// released. Binding two sockets is about ten system calls; done under the lock it
// serialised every call's media setup (at 1,000 calls/s on a loaded machine the lock holder
// was preempted in the middle and hundreds of calls queued behind it, see BENCHMARKS.md).
type portPool struct {
	bind  netip.Addr
	first int // first even port
	// listen binds one UDP socket (net.ListenUDP; replaced by tests).
	listen func(netip.AddrPort) (*net.UDPConn, error)

	mu   sync.Mutex
	used []bool // by pair index
}

func newPortPool(bind netip.Addr, min, max int) *portPool {
	first := min + min%2
	pairs := (max - first + 1) / 2
	return &portPool{bind: bind, first: first, used: make([]bool, pairs), listen: listenUDP}
}

func listenUDP(a netip.AddrPort) (*net.UDPConn, error) {
	return net.ListenUDP("udp", net.UDPAddrFromAddrPort(a))
}

// open binds a free pair, searching from a random index. A pair the OS refuses (used by
// another process) is skipped. When none can be bound it returns ErrNoPort at once.
func (p *portPool) open() (rtpConn, rtcpConn *net.UDPConn, idx int, err error) {
	n := len(p.used)
	start := rand.IntN(n)
	for k := 0; k < n; k++ {
		var full error
		if k, full = p.reserve(start, k); full != nil {
			break
		}
		i := (start + k) % n
		port := p.first + 2*i
		a, err := p.listen(netip.AddrPortFrom(p.bind, uint16(port)))
		if err != nil {
			p.release(i)
			continue
		}
		b, err := p.listen(netip.AddrPortFrom(p.bind, uint16(port+1)))
		if err != nil {
			a.Close()
			p.release(i)
			continue
		}
		return a, b, i, nil
	}
	return nil, nil, -1, fmt.Errorf("%w: %d pairs from %d", ErrNoPort, n, p.first)
}

// reserve marks the first free pair at or after step k of the search from start as used
// and returns its step; ErrNoPort when no pair is free from k on.
func (p *portPool) reserve(start, k int) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := len(p.used)
	for ; k < n; k++ {
		if i := (start + k) % n; !p.used[i] {
			p.used[i] = true
			return k, nil
		}
	}
	return k, ErrNoPort
}

// release returns a pair to the pool; its sockets must be closed already.
func (p *portPool) release(idx int) {
	p.mu.Lock()
	p.used[idx] = false
	p.mu.Unlock()
}
