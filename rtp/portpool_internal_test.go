package rtp

import (
	"errors"
	"net"
	"net/netip"
	"testing"
)

// TestPortPoolBindsOutsideLock: the sockets of a pair are bound without the pool's lock
// held, so one call's binds never hold up another call's open or a session's release.
func TestPortPoolBindsOutsideLock(t *testing.T) {
	p := newPortPool(netip.MustParseAddr("127.0.0.1"), 40000, 40009)
	binds := 0
	p.listen = func(a netip.AddrPort) (*net.UDPConn, error) {
		binds++
		if !p.mu.TryLock() {
			t.Errorf("port %d bound with the pool's lock held", a.Port())
		} else {
			p.mu.Unlock()
		}
		return net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}) // any free port
	}
	a, b, idx, err := p.open()
	if err != nil {
		t.Fatal(err)
	}
	a.Close()
	b.Close()
	p.release(idx)
	if binds != 2 {
		t.Errorf("%d binds, want 2", binds)
	}
}

// TestPortPoolReleasesRefusedPair: a pair whose bind fails is not left marked used, and
// when every bind fails open says ErrNoPort with every pair free again.
func TestPortPoolReleasesRefusedPair(t *testing.T) {
	p := newPortPool(netip.MustParseAddr("127.0.0.1"), 40000, 40007) // 4 pairs
	refused := errors.New("refused")
	p.listen = func(netip.AddrPort) (*net.UDPConn, error) { return nil, refused }
	if _, _, _, err := p.open(); !errors.Is(err, ErrNoPort) {
		t.Fatalf("open: %v, want ErrNoPort", err)
	}
	for i, u := range p.used {
		if u {
			t.Errorf("pair %d left marked used after its bind failed", i)
		}
	}
	// With one pair taken, the others are still found.
	p.listen = listenUDP
	p.used[0], p.used[1], p.used[2] = true, true, true
	a, b, idx, err := p.open()
	if err != nil {
		t.Skipf("port taken by another process: %v", err)
	}
	a.Close()
	b.Close()
	if idx != 3 {
		t.Errorf("got pair %d, want 3 (the only free one)", idx)
	}
}
