package rtp_test

import (
	"context"
	"net/netip"
	"runtime"
	"syscall"
	"testing"
	"time"

	pionrtp "github.com/pion/rtp"

	"github.com/sidecar-voip/sidecar/media"
)

// BenchmarkEchoPacket measures one echoed packet end to end over loopback: the peer's write,
// the session's read loop (parse, statistics, header rewrite, write) and the peer's read. The
// figure includes the peer's two syscalls, so the sidecar's own share is lower.
func BenchmarkEchoPacket(b *testing.B) {
	e := newEngine(&testing.T{}, 1, nil)
	defer e.Close()
	p := newPeer(&testing.T{})
	defer p.conn.Close()
	ms, err := e.Open(context.Background(), media.Params{CallID: "bench", Offer: p.offer("0")})
	if err != nil {
		b.Fatal(err)
	}
	s := ms.(interface {
		Echo(context.Context) error
		Port() int
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go s.Echo(ctx)
	time.Sleep(20 * time.Millisecond)
	pkt := pionrtp.Packet{Header: pionrtp.Header{Version: 2, SSRC: 1}, Payload: make([]byte, 160)}
	buf := make([]byte, 1500)
	out := make([]byte, 1500)
	addr := loopback(s.Port())
	cpu0 := cpuTime()
	n := 0
	for i := 0; b.Loop(); i++ {
		n++
		pkt.SequenceNumber = uint16(i)
		pkt.Timestamp = uint32(i * 160)
		n, _ := pkt.MarshalTo(buf)
		if _, err := p.conn.WriteToUDPAddrPort(buf[:n], addr); err != nil {
			b.Fatal(err)
		}
		p.conn.SetReadDeadline(time.Now().Add(time.Second))
		if _, err := p.conn.Read(out); err != nil {
			b.Fatal(err)
		}
	}
	// Wall time per packet is mostly scheduling latency on a loaded machine; the process CPU
	// time per packet (sidecar and peer together) is the cost figure.
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(n), "cpu-ns/pkt")
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkSessionMemory opens 200 sessions and reports the live heap and goroutine stack
// growth per open session (after the first round the port pairs are bound already: this is
// the steady state, where a call's sockets and reader cost it nothing).
func BenchmarkSessionMemory(b *testing.B) {
	const calls = 200
	e := newEngine(&testing.T{}, calls, nil)
	defer e.Close()
	p := newPeer(&testing.T{})
	defer p.conn.Close()
	offer := p.offer("0 101", "a=rtpmap:101 telephone-event/8000")
	sessions := make([]interface{ Close() error }, 0, calls)
	var perCall float64
	for b.Loop() {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for i := 0; i < calls; i++ {
			s, err := e.Open(context.Background(), media.Params{CallID: "m", Offer: offer})
			if err != nil {
				b.Fatal(err)
			}
			sessions = append(sessions, s)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		perCall = (float64(after.HeapAlloc+after.StackInuse) - float64(before.HeapAlloc+before.StackInuse)) / calls
		for _, s := range sessions {
			s.Close()
		}
		clear(sessions) // else the closed sessions count in the next round's "before"
		sessions = sessions[:0]
	}
	b.ReportMetric(perCall, "bytes/call")
}

// BenchmarkEchoReflector is the floor for BenchmarkEchoPacket, measured the same way: a bare
// UDP reflector (read, write back, nothing else) instead of a session.
func BenchmarkEchoReflector(b *testing.B) {
	refl := newPeer(&testing.T{})
	defer refl.conn.Close()
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := refl.conn.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			refl.conn.WriteToUDPAddrPort(buf[:n], from)
		}
	}()
	p := newPeer(&testing.T{})
	defer p.conn.Close()
	pkt := pionrtp.Packet{Header: pionrtp.Header{Version: 2, SSRC: 1}, Payload: make([]byte, 160)}
	buf, out := make([]byte, 1500), make([]byte, 1500)
	addr := loopback(refl.port())
	cpu0 := cpuTime()
	n := 0
	for i := 0; b.Loop(); i++ {
		n++
		pkt.SequenceNumber = uint16(i)
		k, _ := pkt.MarshalTo(buf)
		if _, err := p.conn.WriteToUDPAddrPort(buf[:k], addr); err != nil {
			b.Fatal(err)
		}
		p.conn.SetReadDeadline(time.Now().Add(time.Second))
		if _, err := p.conn.Read(out); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(n), "cpu-ns/pkt")
}

func loopback(port int) netip.AddrPort {
	return netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(port))
}

// BenchmarkOpenClose is one call's media setup and teardown: Open with the caller's offer
// (SDP parse, negotiation, a port pair, the answer) and Close (RTCP BYE, the pair back to the
// pool), with 100 other sessions open. cpu-ns/op counts every goroutine's CPU (the reads of
// the pair's sockets included, wherever they run).
func BenchmarkOpenClose(b *testing.B) {
	e := newEngine(&testing.T{}, 1000, nil)
	defer e.Close()
	p := newPeer(&testing.T{})
	defer p.conn.Close()
	offer := p.offer("0 101", "a=rtpmap:101 telephone-event/8000")
	for range 100 {
		if _, err := e.Open(context.Background(), media.Params{CallID: "other", Offer: offer}); err != nil {
			b.Fatal(err)
		}
	}
	cpu0 := cpuTime()
	for b.Loop() {
		s, err := e.Open(context.Background(), media.Params{CallID: "bench", Offer: offer})
		if err != nil {
			b.Fatal(err)
		}
		s.Close()
	}
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
}
