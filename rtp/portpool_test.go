package rtp_test

import (
	"net"
	"testing"

	"github.com/sidecar-voip/sidecar/rtp"
)

// TestPortPoolSkipsBusyPorts holds ports of two of three pairs in other sockets: the pool
// always finds the free pair.
func TestPortPoolSkipsBusyPorts(t *testing.T) {
	var lo int
	e := newEngine(t, 3, func(c *rtp.Config) { lo = c.PortMin })
	for _, port := range []int{lo + 3, lo + 4} { // RTCP of the 2nd pair, RTP of the 3rd
		busy, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port})
		if err != nil {
			t.Skip("port taken meanwhile")
		}
		defer busy.Close()
	}
	p := newPeer(t)
	for i := 0; i < 6; i++ {
		s := open(t, e, p.offer("0"))
		if s.Port() != lo {
			t.Errorf("open %d: port %d, want %d (the only pair free)", i, s.Port(), lo)
		}
		s.Close()
	}
}

// TestPortPoolIsNotSequential: successive calls do not get predictable (next) port pairs.
func TestPortPoolIsNotSequential(t *testing.T) {
	e := newEngine(t, 50, nil)
	p := newPeer(t)
	var ports []int
	for i := 0; i < 12; i++ {
		s := open(t, e, p.offer("0"))
		ports = append(ports, s.Port())
		if i%2 == 1 {
			s.Close() // half released, half kept
		}
	}
	next := 0
	for i := 1; i < len(ports); i++ {
		if ports[i] == ports[i-1]+2 {
			next++
		}
	}
	if next > 4 {
		t.Errorf("%d of 11 calls got the pair after the previous one: %v", next, ports)
	}
}
