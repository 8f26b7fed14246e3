package rtp_test

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/pion/rtcp"
)

// TestRTCPFromStrangerIgnored: before any RTP arrives, a stranger's RTCP neither changes the
// session's statistics nor where its RTCP goes; the peer's a=rtcp port (RFC 3605) gets the BYE.
func TestRTCPFromStrangerIgnored(t *testing.T) {
	e := newEngine(t, 1, nil)
	p := newPeer(t)
	pc := newPeer(t) // the peer's RTCP socket, on a port that is not the RTP port + 1
	attacker := newPeerAt(t, "127.0.0.2", 5)
	s := open(t, e, p.offer("0", fmt.Sprintf("a=rtcp:%d", pc.port())))
	if err := s.Play(context.Background(), &silence{n: 1}); err != nil {
		t.Fatal(err)
	}
	pkt, _, err := p.recv(time.Second)
	if err != nil {
		t.Fatal(err)
	}
	rr, _ := rtcp.Marshal([]rtcp.Packet{&rtcp.ReceiverReport{SSRC: 5, Reports: []rtcp.ReceptionReport{{SSRC: pkt.SSRC, TotalLost: 7}}}})
	dst := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(s.Port()+1))
	if _, err := attacker.conn.WriteToUDPAddrPort(rr, dst); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second) // polled: long only when failing
	for s.Stats().Dropped == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if st := s.Stats(); st.Dropped != 1 || st.RemoteLost != 0 {
		t.Errorf("stats %+v: the stranger's report must be dropped", st)
	}
	// The peer's own report counts.
	rr, _ = rtcp.Marshal([]rtcp.Packet{&rtcp.ReceiverReport{SSRC: 6, Reports: []rtcp.ReceptionReport{{SSRC: pkt.SSRC, TotalLost: 3}}}})
	pc.conn.WriteToUDPAddrPort(rr, dst)
	for s.Stats().RemoteLost == 0 && time.Now().Before(deadline.Add(5*time.Second)) {
		time.Sleep(5 * time.Millisecond)
	}
	if st := s.Stats(); st.RemoteLost != 3 {
		t.Errorf("peer's report: remote lost %d, want 3", st.RemoteLost)
	}
	s.Close()
	if !gotBye(pc.conn) {
		t.Error("no RTCP BYE at the peer's a=rtcp port")
	}
	if gotBye(attacker.conn) {
		t.Error("the stranger got the RTCP BYE")
	}
}

func gotBye(c *net.UDPConn) bool {
	buf := make([]byte, 1500)
	for {
		c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		n, err := c.Read(buf)
		if err != nil {
			return false
		}
		pkts, _ := rtcp.Unmarshal(buf[:n])
		for _, p := range pkts {
			if _, ok := p.(*rtcp.Goodbye); ok {
				return true
			}
		}
	}
}
