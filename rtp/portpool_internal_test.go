package rtp

import (
	"errors"
	"net/netip"
	"syscall"
	"testing"
)

func testPool(t *testing.T, min, max int) *portPool {
	t.Helper()
	p, err := newPortPool(netip.MustParseAddr("127.0.0.1"), min, max)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.close() })
	return p
}

// anyPort binds a socket on any free loopback port (tests replace the pool's listen with it).
func anyPort(netip.AddrPort) (sock, error) {
	return openSock(netip.MustParseAddrPort("127.0.0.1:0"))
}

// TestPortPoolBindsOutsideLock: the sockets of a pair are bound without the pool's lock
// held, so one call's binds never hold up another call's open or a session's release.
func TestPortPoolBindsOutsideLock(t *testing.T) {
	p := testPool(t, 40000, 40009)
	binds := 0
	p.listen = func(a netip.AddrPort) (sock, error) {
		binds++
		if !p.mu.TryLock() {
			t.Errorf("port %d bound with the pool's lock held", a.Port())
		} else {
			p.mu.Unlock()
		}
		return anyPort(a)
	}
	pr, err := p.open(nil)
	if err != nil {
		t.Fatal(err)
	}
	p.release(pr, nil)
	if binds != 2 {
		t.Errorf("%d binds, want 2", binds)
	}
}

// TestPortPoolReleasesRefusedPair: a pair whose bind fails goes back to the free queue, and
// when every bind fails open says ErrNoPort with every pair free again.
func TestPortPoolReleasesRefusedPair(t *testing.T) {
	p := testPool(t, 40000, 40007) // 4 pairs
	refused := errors.New("refused")
	p.listen = func(netip.AddrPort) (sock, error) { return sock{}, refused }
	if _, err := p.open(nil); !errors.Is(err, ErrNoPort) {
		t.Fatalf("open: %v, want ErrNoPort", err)
	}
	if p.n != 4 {
		t.Errorf("%d pairs free after every bind failed, want 4", p.n)
	}
	// Only pair 3 binds: it is found whatever the queue's order.
	p.listen = func(a netip.AddrPort) (sock, error) {
		if int(a.Port()) < 40006 {
			return sock{}, refused
		}
		return anyPort(a)
	}
	pr, err := p.open(nil)
	if err != nil {
		t.Fatal(err)
	}
	if pr.idx != 3 {
		t.Errorf("got pair %d, want 3 (the only one that binds)", pr.idx)
	}
}

// TestPortPoolKeepsPairsBound: a released pair keeps its sockets (the next call reuses them
// without a bind), and a pair just released is handed out again only after the others.
func TestPortPoolKeepsPairsBound(t *testing.T) {
	if !keepBound {
		t.Skip("the portable fallback binds fresh sockets per call")
	}
	const pairs = 3 * reuseSpread
	p := testPool(t, 40000, 40000+2*pairs-1)
	binds := map[uint16]int{}
	p.listen = func(a netip.AddrPort) (sock, error) { binds[a.Port()]++; return anyPort(a) }
	first, err := p.open(nil)
	if err != nil {
		t.Fatal(err)
	}
	p.release(first, nil)
	for i := 0; i < pairs-reuseSpread; i++ {
		pr, err := p.open(nil)
		if err != nil {
			t.Fatal(err)
		}
		if pr == first {
			t.Fatalf("open %d: the pair released last came back while %d others were free", i, pairs-1-i)
		}
		p.release(pr, nil)
	}
	for range 4 * pairs {
		pr, err := p.open(nil)
		if err != nil {
			t.Fatal(err)
		}
		p.release(pr, nil)
	}
	for port, n := range binds {
		if n != 1 {
			t.Errorf("port %d bound %d times over %d calls, want once", port, n, 5*pairs)
		}
	}
	if len(binds) < 2*pairs {
		t.Errorf("%d of %d pairs used over %d calls", len(binds)/2, pairs, 5*pairs)
	}
}

// TestPortPoolOutOfFdsUsesBoundPairs: when binding fails for want of file descriptors, open
// does not try to bind every other pair of the range: it takes a pair bound already.
func TestPortPoolOutOfFdsUsesBoundPairs(t *testing.T) {
	if !keepBound {
		t.Skip("the portable fallback binds fresh sockets per call")
	}
	p := testPool(t, 40000, 40000+2*64-1) // 64 pairs
	p.listen = anyPort
	bound, err := p.open(nil)
	if err != nil {
		t.Fatal(err)
	}
	p.release(bound, nil)
	binds := 0
	p.listen = func(netip.AddrPort) (sock, error) { binds++; return sock{}, syscall.EMFILE }
	pr, err := p.open(nil)
	if err != nil {
		t.Fatalf("open with one bound pair free: %v", err)
	}
	if pr != bound {
		t.Errorf("got pair %d, want the bound one %d", pr.idx, bound.idx)
	}
	if binds > 1 {
		t.Errorf("%d binds tried after the first EMFILE, want none", binds-1)
	}
	if p.n != 63 {
		t.Errorf("%d pairs free, want 63", p.n)
	}
}
