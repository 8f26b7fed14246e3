package rtp

import (
	"fmt"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
)

// TestReceiverReportCountsLoss sends RTP with a gap from a real socket pair and reads the
// session's RTCP report on the odd port: the loss must be counted, and the peer's own report
// about our stream must land in Stats.
func TestReceiverReportCountsLoss(t *testing.T) {
	var rtpc, rtcpc *net.UDPConn
	for try := 0; rtcpc == nil && try < 20; try++ {
		c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		port := c.LocalAddr().(*net.UDPAddr).Port
		if port%2 == 1 || port == 65535 {
			c.Close()
			continue
		}
		d, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port + 1})
		if err != nil {
			c.Close()
			continue
		}
		rtpc, rtcpc = c, d
	}
	if rtcpc == nil {
		t.Skip("no free even/odd pair")
	}
	defer rtpc.Close()
	defer rtcpc.Close()
	s := fuzzSession(t)
	port := rtpc.LocalAddr().(*net.UDPAddr).Port
	offer := fmt.Sprintf("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio %d RTP/AVP 0\r\n", port)
	if _, err := s.SetRemote([]byte(offer)); err != nil {
		t.Fatal(err)
	}
	dst := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(s.Port()))
	for seq := uint16(65530); seq != 10; seq++ { // wraps; 3 lost
		if seq == 65534 || seq == 2 || seq == 3 {
			continue
		}
		b, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: seq, Timestamp: uint32(seq) * 160, SSRC: 99}, Payload: make([]byte, 160)}).Marshal()
		rtpc.WriteToUDPAddrPort(b, dst)
	}
	deadline := time.Now().Add(5 * time.Second) // polled: long only when failing
	for s.Stats().PacketsReceived < 13 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if st := s.Stats(); st.PacketsReceived != 13 || st.PacketsLost != 3 {
		t.Fatalf("stats %+v, want 13 received, 3 lost", st)
	}
	s.sendReport(s.route.Load(), time.Now())
	buf := make([]byte, 1500)
	rtcpc.SetReadDeadline(time.Now().Add(time.Second))
	var rr *rtcp.ReceiverReport
	for rr == nil {
		n, err := rtcpc.Read(buf)
		if err != nil {
			t.Fatalf("no RTCP report: %v", err)
		}
		pkts, err := rtcp.Unmarshal(buf[:n])
		if err != nil {
			t.Fatal(err)
		}
		rr, _ = pkts[0].(*rtcp.ReceiverReport)
	}
	if len(rr.Reports) != 1 || rr.Reports[0].SSRC != 99 || rr.Reports[0].TotalLost != 3 || rr.Reports[0].LastSequenceNumber != 1<<16+9 {
		t.Errorf("report %+v", rr.Reports)
	}
	// The peer reports on our stream.
	b, _ := rtcp.Marshal([]rtcp.Packet{&rtcp.ReceiverReport{SSRC: 99, Reports: []rtcp.ReceptionReport{{SSRC: s.tx.ssrc, TotalLost: 7, Jitter: 80}}}})
	rtcpc.WriteToUDPAddrPort(b, netip.AddrPortFrom(dst.Addr(), dst.Port()+1))
	deadline = time.Now().Add(5 * time.Second)
	for s.Stats().RemoteLost != 7 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if st := s.Stats(); st.RemoteLost != 7 || st.RemoteJitter != 10*time.Millisecond {
		t.Errorf("remote stats %+v, want 7 lost, 10ms jitter", st)
	}
	// Close says goodbye.
	s.Close()
	rtcpc.SetReadDeadline(time.Now().Add(time.Second))
	for bye := false; !bye; {
		n, err := rtcpc.Read(buf)
		if err != nil {
			t.Fatalf("no RTCP BYE on close: %v", err)
		}
		pkts, err := rtcp.Unmarshal(buf[:n])
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range pkts {
			if g, ok := p.(*rtcp.Goodbye); ok && len(g.Sources) == 1 && g.Sources[0] == s.tx.ssrc {
				bye = true
			}
		}
	}
}

// TestRTCPIntervalRandomized drives the session's tick with a synthetic clock: reports are
// 0.5 to 1.5 times rtcpInterval apart (RFC 3550 section 6.3.1), not all equal, the first after
// at most 0.75 of it.
func TestRTCPIntervalRandomized(t *testing.T) {
	s := fuzzSession(t)
	t0 := time.Now()
	var gaps []time.Duration
	last := t0
	for now := t0; now.Before(t0.Add(150 * time.Second)); now = now.Add(10 * time.Millisecond) {
		before := s.nextRTCP
		s.tick(now)
		if before == 0 {
			if d := s.nextRTCP - now.Sub(s.start); d < rtcpInterval/4 || d > rtcpInterval*3/4 {
				t.Errorf("first report after %s", d)
			}
			continue
		}
		if s.nextRTCP != before {
			gaps = append(gaps, now.Sub(last))
			last = now
		}
	}
	lo, hi := time.Hour, time.Duration(0)
	for _, g := range gaps[1:] {
		lo, hi = min(lo, g), max(hi, g)
	}
	if len(gaps) < 20 || lo < rtcpInterval/2 || hi > rtcpInterval*3/2+10*time.Millisecond || hi-lo < rtcpInterval/5 {
		t.Errorf("%d reports, gaps %s to %s", len(gaps), lo, hi)
	}
}
