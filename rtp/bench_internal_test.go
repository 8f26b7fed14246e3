package rtp

import (
	"fmt"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/pion/rtp"
)

// BenchmarkHandleRTPEcho is the sidecar's own work per echoed packet after the read syscall:
// parse, latch check, statistics, header rewrite and the write syscall (to a socket a goroutine
// drains; that goroutine's CPU is not in the figure only when it runs on the other core).
func BenchmarkHandleRTPEcho(b *testing.B) {
	s := fuzzSession(b)
	sink, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	defer sink.Close()
	go func() { // drain, so the kernel queues and frees as it would for a real peer
		buf := make([]byte, 1500)
		for {
			if _, err := sink.Read(buf); err != nil {
				return
			}
		}
	}()
	port := sink.LocalAddr().(*net.UDPAddr).Port
	if _, err := s.SetRemote([]byte(fmt.Sprintf("v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio %d RTP/AVP 0\r\n", port))); err != nil {
		b.Fatal(err)
	}
	from := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(port))
	s.echo.Store(true)
	pkt := rtp.Packet{Header: rtp.Header{Version: 2, SSRC: 7}, Payload: make([]byte, 160)}
	buf := make([]byte, 1500)
	var p rtp.Packet
	for i := 0; b.Loop(); i++ {
		pkt.SequenceNumber = uint16(i)
		pkt.Timestamp = uint32(i * 160)
		n, _ := pkt.MarshalTo(buf)
		s.handleRTP(buf[:n], from, &p, time.Now())
	}
	if st := s.Stats(); st.PacketsSent == 0 {
		b.Fatal("nothing echoed")
	}
}
