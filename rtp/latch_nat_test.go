package rtp_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/sidecar-voip/sidecar/rtp"
)

// natOffer is an offer whose c= address (127.0.0.3) is not where the peer sends from, as a
// peer behind NAT writes it.
func natOffer(port int) []byte {
	return []byte(strings.Replace(string(offerAt(port, "0")), "c=IN IP4 127.0.0.1", "c=IN IP4 127.0.0.3", 1))
}

// junk sends one PCMU packet from a with a random SSRC and sequence number.
func junk(a *peer, s *rtp.Session, rng *rand.Rand) {
	a.ssrc, a.seq = rng.Uint32(), uint16(rng.Uint32())
	a.send(s, 0, false, rng.Uint32(), make([]byte, 160))
}

// wantLatchedAtThird sends the peer's packets one by one, interleaved by between, and checks
// that the session echoes nothing before the peer's third packet and everything from it on.
func wantLatchedAtThird(t *testing.T, s *rtp.Session, p *peer, between func(i int)) {
	t.Helper()
	for i := 0; i < 12; i++ {
		between(i)
		p.send(s, 0, i == 0, uint32(160*i), make([]byte, 160))
		// No echo expected: 150 ms of silence. An echo expected: up to 2 s (150 ms failed when a
		// loaded machine delayed one).
		wait := 150 * time.Millisecond
		if i >= 2 {
			wait = 2 * time.Second
		}
		_, _, err := p.recv(wait)
		switch {
		case i < 2 && err == nil:
			t.Fatalf("echoed after the peer's packet %d: latched before three in sequence", i+1)
		case i >= 2 && err != nil:
			t.Fatalf("no echo of the peer's packet %d: %v", i+1, err)
		}
	}
}

// TestLatchNATPeerDespiteInterleaver: a peer whose address differs from the SDP's is latched
// after its third packet in sequence although a stranger on 127.0.0.2 sends a packet between
// each two of the peer's, and the stranger never gets the media.
func TestLatchNATPeerDespiteInterleaver(t *testing.T) {
	for _, tc := range []struct {
		name string
		send func(a *peer, s *rtp.Session, rng *rand.Rand, i int)
	}{
		{"random SSRC and sequence", func(a *peer, s *rtp.Session, rng *rand.Rand, i int) { junk(a, s, rng) }},
		{"one SSRC, random sequence", func(a *peer, s *rtp.Session, rng *rand.Rand, i int) {
			a.seq = uint16(rng.Uint32())
			a.send(s, 0, false, uint32(160*i), make([]byte, 160))
		}},
		{"its own sequence, started later", func(a *peer, s *rtp.Session, rng *rand.Rand, i int) {
			if i > 0 {
				a.send(s, 0, false, uint32(160*i), make([]byte, 160))
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, 2))
			e := newEngine(t, 1, nil)
			p := newPeer(t)
			attacker := newPeerAt(t, "127.0.0.2", 999)
			s := open(t, e, natOffer(p.port()))
			startEcho(t, s)
			wantLatchedAtThird(t, s, p, func(i int) { tc.send(attacker, s, rng, i) })
			// Latched: a run in sequence from elsewhere does not displace the peer.
			for i := 0; i < 5; i++ {
				attacker.send(s, 0, false, uint32(160*i), make([]byte, 160))
			}
			p.send(s, 0, false, 160*20, make([]byte, 160))
			if _, _, err := p.recv(time.Second); err != nil {
				t.Fatalf("latched peer lost to a later run: %v", err)
			}
			if n := drain(attacker); n != 0 {
				t.Errorf("the attacker got %d packets", n)
			}
			if st := s.Stats(); st.Dropped < 12 {
				t.Errorf("dropped %d, want at least the attacker's 12", st.Dropped)
			}
		})
	}
}

// TestLatchBurstsLoseToSequence: bursts of packets with random SSRCs and sequence numbers,
// sent before each of a NAT-ed peer's packets, never latch; the peer's continuous sequence
// does, at its third packet.
func TestLatchBurstsLoseToSequence(t *testing.T) {
	for _, burst := range []int{3, 5, 20} {
		t.Run(fmt.Sprint(burst), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(burst), 3))
			e := newEngine(t, 1, nil)
			p := newPeer(t)
			attacker := newPeerAt(t, "127.0.0.2", 999)
			s := open(t, e, natOffer(p.port()))
			startEcho(t, s)
			wantLatchedAtThird(t, s, p, func(int) {
				for range burst {
					junk(attacker, s, rng)
				}
			})
			if n := drain(attacker); n != 0 {
				t.Errorf("the attacker got %d packets", n)
			}
		})
	}
}

// TestLatchManySources: strangers on several other addresses, and on many ports of one
// address, interleaving their packets with a NAT-ed peer's, neither fill the bounded
// candidate table against the peer nor get the media.
func TestLatchManySources(t *testing.T) {
	for _, tc := range []struct {
		name  string
		addrs []string
	}{
		{"7 addresses", []string{"127.0.0.4", "127.0.0.5", "127.0.0.6", "127.0.0.7", "127.0.0.8", "127.0.0.9", "127.0.0.10"}},
		{"16 ports of one address", strings.Split(strings.Repeat("127.0.0.2 ", 16), " ")[:16]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(5, 6))
			e := newEngine(t, 1, nil)
			p := newPeer(t)
			var strangers []*peer
			for _, a := range tc.addrs {
				strangers = append(strangers, newPeerAt(t, a, 1))
			}
			s := open(t, e, natOffer(p.port()))
			startEcho(t, s)
			wantLatchedAtThird(t, s, p, func(int) {
				for _, a := range strangers {
					junk(a, s, rng)
				}
			})
			for _, a := range strangers {
				if n := drain(a); n != 0 {
					t.Errorf("stranger %s got %d packets", a.conn.LocalAddr(), n)
				}
			}
		})
	}
}

// TestLatchNeedsSequence: a NAT-ed peer's packets count only in sequence: duplicates do not
// count, a jump or a new SSRC starts again, up to three lost packets are tolerated.
func TestLatchNeedsSequence(t *testing.T) {
	type pkt struct {
		ssrc uint32
		seq  uint16
	}
	for _, tc := range []struct {
		name    string
		pkts    []pkt
		latchAt int // index of the packet that latches; -1: none
	}{
		{"in sequence", []pkt{{1, 1000}, {1, 1001}, {1, 1002}}, 2},
		{"wraps", []pkt{{1, 65535}, {1, 0}, {1, 1}}, 2},
		{"lost packets", []pkt{{1, 1000}, {1, 1002}, {1, 1006}}, 2},
		{"duplicates", []pkt{{1, 1000}, {1, 1000}, {1, 1000}, {1, 1000}}, -1},
		{"jump", []pkt{{1, 1000}, {1, 1001}, {1, 1006}, {1, 1007}, {1, 1008}}, 4},
		{"backwards", []pkt{{1, 1000}, {1, 1001}, {1, 999}, {1, 1000}}, -1},
		{"new SSRC", []pkt{{1, 1000}, {1, 1001}, {2, 1002}, {2, 1003}, {2, 1004}}, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEngine(t, 1, nil)
			p := newPeer(t)
			s := open(t, e, natOffer(p.port()))
			startEcho(t, s)
			for i, k := range tc.pkts {
				p.ssrc, p.seq = k.ssrc, k.seq
				p.send(s, 0, false, uint32(160*i), make([]byte, 160))
				wait := 100 * time.Millisecond
				if i == tc.latchAt {
					wait = time.Second
				}
				_, _, err := p.recv(wait)
				if latched := tc.latchAt >= 0 && i >= tc.latchAt; latched != (err == nil) {
					t.Fatalf("packet %d (%+v): echoed %v, want %v", i, k, err == nil, latched)
				}
			}
		})
	}
}
