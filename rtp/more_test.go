package rtp_test

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/sidecar-voip/sidecar/media"
	"github.com/sidecar-voip/sidecar/rtp"
)

func TestNewEngineValidates(t *testing.T) {
	lo := netip.MustParseAddr("127.0.0.1")
	any4 := netip.MustParseAddr("0.0.0.0")
	for _, tc := range []struct {
		name string
		cfg  rtp.Config
		ok   bool
	}{
		{"default", rtp.DefaultConfig(), true},
		{"wildcard bind with address", rtp.Config{PortMin: 20000, PortMax: 20001, Address: lo, Bind: any4}, true},
		{"wildcard only", rtp.Config{PortMin: 20000, PortMax: 20001, Bind: any4}, false},
		{"no address", rtp.Config{PortMin: 20000, PortMax: 20001}, false},
		{"reversed ports", rtp.Config{PortMin: 30000, PortMax: 20000, Address: lo}, false},
		{"privileged ports", rtp.Config{PortMin: 100, PortMax: 2000, Address: lo}, false},
		{"no pair", rtp.Config{PortMin: 20001, PortMax: 20002, Address: lo}, false},
		{"negative timeout", rtp.Config{PortMin: 20000, PortMax: 20001, Address: lo, Timeout: -time.Second}, false},
	} {
		e, err := rtp.NewEngine(tc.cfg, nil)
		if (err == nil) != tc.ok {
			t.Errorf("%s: err %v", tc.name, err)
		}
		if e != nil {
			e.Close()
		}
	}
}

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

func TestEchoPassthroughCodec(t *testing.T) {
	e := newEngine(t, 1, nil)
	p := newPeer(t)
	s := open(t, e, p.offer("18 0", "a=rtpmap:18 G729/8000"), "g729", "pcmu")
	if s.Codec() != "g729" {
		t.Fatalf("codec %q", s.Codec())
	}
	if s.SampleRate() != 8000 {
		t.Errorf("SampleRate %d: playback should fall back to PCMU", s.SampleRate())
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go s.Echo(ctx)
	waitEcho(t, s)
	p.send(s, 18, true, 80, []byte("0123456789"))
	pkt, _, err := p.recv(time.Second)
	if err != nil || pkt.PayloadType != 18 || string(pkt.Payload) != "0123456789" {
		t.Fatalf("echo of G.729: %v %v", pkt, err)
	}
	only := open(t, newEngine(t, 1, nil), p.offer("18"), "g729")
	if err := only.Play(context.Background(), &pcm{make([]int16, 160)}); err != media.ErrNoEncoder {
		t.Errorf("Play with only G.729: %v, want ErrNoEncoder", err)
	}
}

func TestPtime30(t *testing.T) {
	e := newEngine(t, 1, nil)
	p := newPeer(t)
	s := open(t, e, p.offer("0", "a=ptime:30"))
	if want := "a=ptime:30\r\n"; !contains(s.LocalSDP(), want) {
		t.Errorf("answer lacks %q", want)
	}
	go s.Play(context.Background(), &pcm{make([]int16, 2400)}) // 300 ms
	var n int
	var last uint32
	for {
		pkt, _, err := p.recv(200 * time.Millisecond)
		if err != nil {
			break
		}
		if len(pkt.Payload) != 240 || n > 0 && pkt.Timestamp-last != 240 {
			t.Errorf("packet %d: %d bytes, ts +%d", n, len(pkt.Payload), pkt.Timestamp-last)
		}
		last = pkt.Timestamp
		n++
	}
	if n != 10 {
		t.Errorf("%d packets, want 10", n)
	}
}

func TestAsymmetricSendsToSDPAddress(t *testing.T) {
	e := newEngine(t, 1, func(c *rtp.Config) { c.Symmetric = false })
	p, other := newPeer(t), newPeer(t)
	s := open(t, e, p.offer("0"))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go s.Echo(ctx)
	waitEcho(t, s)
	other.send(s, 0, true, 160, make([]byte, 160)) // from a source the SDP does not name
	if _, _, err := p.recv(time.Second); err != nil {
		t.Fatalf("echo did not go to the SDP address: %v", err)
	}
	if _, _, err := other.recv(50 * time.Millisecond); err == nil {
		t.Error("echo went to the packet's source despite symmetric = no")
	}
}

func contains(b []byte, s string) bool { return strings.Contains(string(b), s) }
