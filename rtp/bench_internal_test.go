package rtp

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/sidecar-voip/sidecar/media"
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

// endless is a Source of silence that never ends.
type endless struct{}

func (endless) ReadFrame(f []int16) (int, error) { clear(f); return len(f), nil }

// BenchmarkClockTickPlayout is the shared clock's work for one playing session at one 20 ms
// step (encode a G.711 frame, write it to a drained socket): the clock goroutine's budget is
// 10 ms per tick, so 10 ms divided by this figure bounds the calls it can pace alone.
func BenchmarkClockTickPlayout(b *testing.B) {
	const calls = 50
	cfg := DefaultConfig()
	cfg.PortMin, cfg.PortMax, cfg.Timeout = 42000, 42199, 0
	e, err := NewEngine(cfg, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	sink, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	defer sink.Close()
	go func() {
		buf := make([]byte, 1500)
		for {
			if _, err := sink.Read(buf); err != nil {
				return
			}
		}
	}()
	offer := fmt.Sprintf("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio %d RTP/AVP 0\r\n", sink.LocalAddr().(*net.UDPAddr).Port)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var list []*Session
	for range calls {
		ms, err := e.Open(ctx, media.Params{CallID: "bench", Offer: []byte(offer)})
		if err != nil {
			b.Fatal(err)
		}
		s := ms.(*Session)
		e.clock.remove(s) // the benchmark drives the ticks
		go s.Play(ctx, endless{})
		list = append(list, s)
	}
	for _, s := range list {
		for s.mu.Lock(); s.play == nil; s.mu.Lock() {
			s.mu.Unlock()
			time.Sleep(time.Millisecond)
		}
		s.mu.Unlock()
	}
	now := time.Now()
	for b.Loop() {
		now = now.Add(20 * time.Millisecond)
		for _, s := range list {
			s.tick(now)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*calls), "ns/session-tick")
	if st := list[0].Stats(); st.PacketsSent == 0 {
		b.Fatal("nothing sent")
	}
}
