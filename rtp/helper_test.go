package rtp_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	pionrtp "github.com/pion/rtp"

	"github.com/sidecar-voip/sidecar/internal/sipstatus"
	"github.com/sidecar-voip/sidecar/media"
	"github.com/sidecar-voip/sidecar/rtp"
)

// freeRange finds n consecutive free even/odd port pairs on loopback, for an engine's pool.
func freeRange(t *testing.T, pairs int) (int, int) {
	t.Helper()
	for try := 0; try < 50; try++ {
		c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		base := c.LocalAddr().(*net.UDPAddr).Port
		c.Close()
		base += base % 2
		if base+2*pairs > 65535 {
			continue
		}
		ok := true
		var held []*net.UDPConn
		for p := base; p < base+2*pairs; p++ {
			c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: p})
			if err != nil {
				ok = false
				break
			}
			held = append(held, c)
		}
		for _, c := range held {
			c.Close()
		}
		if ok {
			return base, base + 2*pairs - 1
		}
	}
	t.Fatal("no free port range")
	return 0, 0
}

func newEngine(t *testing.T, pairs int, mod func(*rtp.Config)) *rtp.Engine {
	t.Helper()
	min, max := freeRange(t, pairs)
	cfg := rtp.DefaultConfig()
	cfg.PortMin, cfg.PortMax = min, max
	cfg.Timeout = 0
	if mod != nil {
		mod(&cfg)
	}
	e, err := rtp.NewEngine(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// peer is the far end of a call: a real UDP socket on loopback sending and receiving RTP.
type peer struct {
	t    *testing.T
	conn *net.UDPConn
	ssrc uint32
	seq  uint16
	ts   uint32
}

func newPeer(t *testing.T) *peer {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &peer{t: t, conn: c, ssrc: 0x11223344, seq: 1000, ts: 5000}
}

func (p *peer) port() int { return p.conn.LocalAddr().(*net.UDPAddr).Port }

// offer returns an SDP offer for the peer's socket with the given m-line formats and
// attribute lines.
func (p *peer) offer(formats string, attrs ...string) []byte {
	return offerAt(p.port(), formats, attrs...)
}

func offerAt(port int, formats string, attrs ...string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "v=0\r\no=peer 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio %d RTP/AVP %s\r\n", port, formats)
	for _, a := range attrs {
		b.WriteString(a + "\r\n")
	}
	return []byte(b.String())
}

// send sends one RTP packet to the session.
func (p *peer) send(s *rtp.Session, pt uint8, marker bool, ts uint32, payload []byte) {
	p.t.Helper()
	pkt := pionrtp.Packet{Header: pionrtp.Header{Version: 2, PayloadType: pt, Marker: marker, SequenceNumber: p.seq, Timestamp: ts, SSRC: p.ssrc}, Payload: payload}
	p.seq++
	b, err := pkt.Marshal()
	if err != nil {
		p.t.Fatal(err)
	}
	dst := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(s.Port()))
	if _, err := p.conn.WriteToUDPAddrPort(b, dst); err != nil {
		p.t.Fatal(err)
	}
}

// recv reads one RTP packet, or fails after wait.
func (p *peer) recv(wait time.Duration) (*pionrtp.Packet, time.Time, error) {
	buf := make([]byte, 1500)
	p.conn.SetReadDeadline(time.Now().Add(wait))
	n, err := p.conn.Read(buf)
	if err != nil {
		return nil, time.Time{}, err
	}
	at := time.Now()
	var pkt pionrtp.Packet
	if err := pkt.Unmarshal(buf[:n]); err != nil {
		return nil, at, err
	}
	return &pkt, at, nil
}

func open(t *testing.T, e *rtp.Engine, offer []byte, codecs ...string) *rtp.Session {
	t.Helper()
	ms, err := e.Open(context.Background(), media.Params{CallID: t.Name(), Offer: offer, Codecs: codecs})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { ms.Close() })
	return ms.(*rtp.Session)
}

func wantStatus(t *testing.T, err error, code int) {
	t.Helper()
	var se *sipstatus.Error
	if !errors.As(err, &se) || se.Code != code {
		t.Fatalf("error %v, want a *sipstatus.Error %d", err, code)
	}
}
