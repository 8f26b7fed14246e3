package rtp

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"sync"
	"syscall"

	"github.com/sidecar-voip/sidecar/media"
)

// reuseSpread is how many of the least recently released pairs an open chooses among at
// random: the order stays close to least-recently-released while the next pair handed out is
// not exactly predictable.
const reuseSpread = 4

// portPool hands out even RTP ports with the following odd port for RTCP.
//
// A pair is bound the first time it is handed out and stays bound until the pool closes
// (Engine.Close): a call's media setup is a few memory operations, not two socket binds, and
// its reads are served by the engine's reactor (reactor_*.go) rather than by goroutines of its
// own. The free pairs wait in a FIFO queue that starts in a random order; open takes one of
// the reuseSpread oldest at random, release puts the pair at the back. So a port just freed
// is handed out again only after every other free pair has been (with the default
// 5,000 pairs and 500 calls in progress, about 4,500 calls later), and the ports of the next
// call cannot be predicted from the last one's.
//
// A pair keeps its sockets between calls, so datagrams for the previous call (a peer still
// sending after its BYE) may reach it while it is free: the reactor reads and drops them, and
// open drains what is queued before the new session sees anything. The new session therefore
// receives only what arrives after open, exactly as a freshly bound socket would, and its
// state (latching, peer, SSRC, counters, DTMF) is a new Session's. A stale peer that keeps
// sending into the new call is judged by the symmetric latching rule like any other source
// (docs/media.md). The one difference from a fresh bind: while the pair is free its port
// sends no ICMP port-unreachable back, so a stale sender is not told to stop; the FIFO order
// keeps that window as long as the pool allows.
//
// The lock guards the queue and the bound flags: a new pair is bound after it is released,
// since binding two sockets is about ten system calls (under the lock at 1,000 calls/s on a
// loaded machine the holder was preempted in the middle and hundreds of calls queued behind
// it, see BENCHMARKS.md).
type portPool struct {
	bind  netip.Addr
	first int // first even port
	// listen binds one UDP socket (openSock; replaced by tests).
	listen func(netip.AddrPort) (sock, error)
	io     *reactors

	pairs []*pair // by index; a pair's sockets are set once bound

	mu     sync.Mutex
	free   []int // queue of free pair indexes, oldest first, from head
	head   int
	n      int // entries in free
	closed bool
}

// newPortPool makes the pool of the pairs from min to max (none bound yet) and starts its
// reactor; close stops it.
func newPortPool(bind netip.Addr, min, max int) (*portPool, error) {
	first := min + min%2
	n := (max - first + 1) / 2
	p := &portPool{bind: bind, first: first, listen: openSock, pairs: make([]*pair, n), free: make([]int, n), n: n}
	for i := range p.pairs {
		p.pairs[i] = &pair{idx: i, port: first + 2*i}
	}
	for i, j := range rand.Perm(n) {
		p.free[i] = j
	}
	io, err := newReactors(p.pairs)
	if err != nil {
		return nil, err
	}
	p.io = io
	return p, nil
}

// open takes a free pair, binding it on its first use, drains what is queued on it and
// attaches s to it: from then on the reactor hands s the pair's datagrams. A pair the OS
// refuses to bind (a port used by another process) goes to the back of the queue. When no
// pair can be had it returns ErrNoPort at once. Once a bind fails for want of file
// descriptors (a port range larger than the open-files limit allows), the open takes only
// pairs bound already.
func (p *portPool) open(s *Session) (*pair, error) {
	var refused []*pair // tried in this open: back to the queue at the end
	defer func() {
		for _, pr := range refused {
			p.put(pr)
		}
	}()
	var last error
	noFds := false // out of file descriptors: only pairs bound already can serve
	for {
		pr, err := p.take()
		if err != nil {
			if last != nil && errors.Is(err, ErrNoPort) {
				err = fmt.Errorf("%w: %w", err, last)
			}
			return nil, err
		}
		if !pr.bound && noFds {
			refused = append(refused, pr)
			continue
		}
		if !pr.bound {
			if last = p.bindPair(pr); last != nil {
				noFds = errors.Is(last, syscall.EMFILE) || errors.Is(last, syscall.ENFILE)
				refused = append(refused, pr)
				if errors.Is(last, media.ErrClosed) {
					return nil, last
				}
				continue
			}
		}
		pr.attach(s)
		return pr, nil
	}
}

// take removes one of the reuseSpread oldest free pairs from the queue.
func (p *portPool) take() (*pair, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, media.ErrClosed
	}
	if p.n == 0 {
		return nil, fmt.Errorf("%w: %d pairs from %d", ErrNoPort, len(p.pairs), p.first)
	}
	size := len(p.free)
	if k := rand.IntN(min(reuseSpread, p.n)); k > 0 {
		a, b := p.head, (p.head+k)%size
		p.free[a], p.free[b] = p.free[b], p.free[a]
	}
	idx := p.free[p.head]
	p.head = (p.head + 1) % size
	p.n--
	return p.pairs[idx], nil
}

// put appends a pair to the back of the free queue.
func (p *portPool) put(pr *pair) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.free[(p.head+p.n)%len(p.free)] = pr.idx
	p.n++
}

// bindPair binds the pair's two sockets and hands them to the reactor. The pool's lock is not
// held meanwhile; the pair is out of the queue, so no other open sees it.
func (p *portPool) bindPair(pr *pair) error {
	a, err := p.listen(netip.AddrPortFrom(p.bind, uint16(pr.port)))
	if err != nil {
		return err
	}
	b, err := p.listen(netip.AddrPortFrom(p.bind, uint16(pr.port+1)))
	if err != nil {
		a.close()
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		a.close()
		b.close()
		return media.ErrClosed
	}
	pr.mu.Lock()
	pr.rtp, pr.rtcp = a, b
	pr.mu.Unlock()
	if err := p.io.add(pr); err != nil {
		pr.mu.Lock()
		pr.rtp, pr.rtcp = sock{}, sock{}
		pr.mu.Unlock()
		a.close()
		b.close()
		return fmt.Errorf("watch port %d: %w", pr.port, err)
	}
	pr.bound = true
	return nil
}

// release detaches s from its pair, so that no packet of the pair reaches s once it returns,
// and puts the pair at the back of the free queue with its sockets still bound (closed on
// the portable fallback, see keepBound).
func (p *portPool) release(pr *pair, s *Session) {
	pr.detach(s)
	if !keepBound {
		pr.mu.Lock()
		if pr.rtp.valid() {
			pr.rtp.close()
			pr.rtcp.close()
			pr.rtp, pr.rtcp = sock{}, sock{}
		}
		pr.bound = false
		pr.mu.Unlock()
	}
	p.put(pr)
}

// close stops the reactor and closes every bound socket. The sessions must be closed already.
func (p *portPool) close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	p.mu.Unlock()
	p.io.stop()
	var errs []error
	for _, pr := range p.pairs {
		pr.mu.Lock()
		if pr.rtp.valid() {
			errs = append(errs, pr.rtp.close(), pr.rtcp.close())
			pr.rtp, pr.rtcp = sock{}, sock{}
		}
		pr.sess = nil
		pr.mu.Unlock()
	}
	p.io.wait()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close rtp sockets: %w", err)
	}
	return nil
}
