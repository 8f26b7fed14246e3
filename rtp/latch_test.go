package rtp_test

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/sidecar-voip/sidecar/rtp"
)

// newPeerAt is a peer whose socket is bound to ip (a loopback address such as 127.0.0.2).
func newPeerAt(t *testing.T, ip string, ssrc uint32) *peer {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(ip)})
	if err != nil {
		t.Skipf("cannot bind %s: %v", ip, err)
	}
	t.Cleanup(func() { c.Close() })
	return &peer{t: t, conn: c, ssrc: ssrc, seq: 1, ts: 160}
}

// drain counts the packets waiting on p's socket.
func drain(p *peer) int {
	n := 0
	for {
		if _, _, err := p.recv(100 * time.Millisecond); err != nil {
			return n
		}
		n++
	}
}

// startEcho runs Echo on s until the test ends.
func startEcho(t *testing.T, s *rtp.Session) {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go s.Echo(ctx)
	waitEcho(t, s)
}

// waitProcessed waits until s has received or dropped n packets. (A fixed sleep here was too
// short on a loaded machine: late echoes to the attacker then counted as after the latch.)
func waitProcessed(t *testing.T, s *rtp.Session, n uint32) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for st := s.Stats(); st.PacketsReceived+st.Dropped < n; st = s.Stats() {
		if time.Now().After(deadline) {
			t.Fatalf("stats %+v: %d packets not processed in 5 s", st, n)
		}
		time.Sleep(time.Millisecond)
	}
}

// waitEcho waits until Echo runs on s: a packet that arrives before is not echoed. (A fixed
// 20 ms sleep here was too short on a loaded machine.)
func waitEcho(t *testing.T, s *rtp.Session) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !rtp.EchoOn(s) {
		if time.Now().After(deadline) {
			t.Fatal("Echo did not start in 5 s")
		}
		time.Sleep(time.Millisecond)
	}
}

// TestLatchSpoofedSourceLoses: a stranger's packets before the real peer's do not take the
// call's media: the peer at the SDP address gets every echo, the attacker none after it.
func TestLatchSpoofedSourceLoses(t *testing.T) {
	for _, spoofed := range []int{1, 5} {
		t.Run(strings.Repeat("x", spoofed), func(t *testing.T) {
			e := newEngine(t, 1, nil)
			p := newPeer(t)
			attacker := newPeerAt(t, "127.0.0.2", 999)
			s := open(t, e, p.offer("0 101", "a=rtpmap:101 telephone-event/8000"))
			startEcho(t, s)
			for i := 0; i < spoofed; i++ {
				attacker.send(s, 0, i == 0, uint32(160*i), make([]byte, 160))
			}
			waitProcessed(t, s, uint32(spoofed)) // the echoes of the window latch, if any, are sent
			early := drain(attacker)             // 5 packets in the window latch, until the SDP address speaks
			for i := 0; i < 20; i++ {
				p.send(s, 0, i == 0, uint32(1000+160*i), make([]byte, 160))
				attacker.send(s, 0, false, uint32(160*(spoofed+i)), make([]byte, 160))
				time.Sleep(5 * time.Millisecond)
			}
			if got := drain(p); got != 20 {
				t.Errorf("the real peer got %d echoes of its 20 packets", got)
			}
			if got := drain(attacker); got != 0 {
				t.Errorf("the attacker got %d echoes after the real peer spoke", got)
			}
			if spoofed < 3 && early != 0 {
				t.Errorf("%d spoofed packet(s) were echoed to the attacker", early)
			}
			if st := s.Stats(); st.PacketsReceived != 20 || st.Dropped < 20 {
				t.Errorf("stats %+v: want the peer's 20 received and the attacker's dropped", st)
			}
		})
	}
}

// TestLatchForeignSourceNeedsConsecutivePackets: a peer behind NAT (its SDP names an address
// it does not send from) is latched after three packets with one SSRC.
func TestLatchForeignSourceNeedsConsecutivePackets(t *testing.T) {
	e := newEngine(t, 1, nil)
	p := newPeer(t)
	stranger := newPeerAt(t, "127.0.0.2", 77)
	offer := []byte(strings.Replace(string(offerAt(9, "0")), "c=IN IP4 127.0.0.1", "c=IN IP4 127.0.0.3", 1))
	s := open(t, e, offer)
	startEcho(t, s)
	p.send(s, 0, true, 160, make([]byte, 160))
	p.seq += 100 // a sequence jump breaks the run (packets from other addresses no longer do)
	p.send(s, 0, false, 320, make([]byte, 160))
	p.send(s, 0, false, 480, make([]byte, 160))
	if _, _, err := p.recv(100 * time.Millisecond); err == nil {
		t.Fatal("latched before three consecutive packets")
	}
	p.send(s, 0, false, 640, make([]byte, 160)) // third in a row
	if _, _, err := p.recv(time.Second); err != nil {
		t.Fatalf("not latched after three consecutive packets: %v", err)
	}
	for i := 0; i < 4; i++ {
		stranger.send(s, 0, false, uint32(800+160*i), make([]byte, 160))
	}
	p.send(s, 0, false, 800, make([]byte, 160))
	if _, _, err := p.recv(time.Second); err != nil {
		t.Fatalf("latched peer lost: %v", err)
	}
	if n := drain(stranger); n != 0 {
		t.Errorf("stranger got %d packets after the peer latched", n)
	}
	// A re-INVITE that does not move the media keeps the latched source.
	if _, err := s.SetRemote(offer); err != nil {
		t.Fatal(err)
	}
	p.send(s, 0, false, 960, make([]byte, 160))
	if _, _, err := p.recv(time.Second); err != nil {
		t.Fatalf("re-INVITE with the same SDP lost the latched source: %v", err)
	}
}

// TestLatchIgnoresUnnegotiatedPayload: a packet whose payload type the SDP did not negotiate
// neither latches nor is echoed.
func TestLatchIgnoresUnnegotiatedPayload(t *testing.T) {
	e := newEngine(t, 1, nil)
	p := newPeer(t)
	s := open(t, e, offerAt(9, "0"))
	startEcho(t, s)
	p.send(s, 8, true, 160, make([]byte, 160))
	if _, _, err := p.recv(100 * time.Millisecond); err == nil {
		t.Fatal("a PCMA packet latched a PCMU-only session")
	}
	p.send(s, 0, true, 320, make([]byte, 160))
	if _, _, err := p.recv(time.Second); err != nil {
		t.Fatalf("PCMU packet from the SDP host not latched: %v", err)
	}
	if st := s.Stats(); st.Dropped != 1 {
		t.Errorf("dropped %d, want 1", st.Dropped)
	}
}
