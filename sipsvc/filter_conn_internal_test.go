package sipsvc

import (
	"net"
	"net/netip"
	"testing"
)

// trustPacketConn offers sipgo no read method but the filtering ReadFrom: a future sipgo
// fast path asserting one of these would fall back to ReadFrom, not bypass the gate.
func TestTrustPacketConnExposesOnlyFilteredReads(t *testing.T) {
	conn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.1:0")))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var pc net.PacketConn = &trustPacketConn{UDPConn: conn}
	bypasses := map[string]bool{}
	if _, ok := pc.(interface {
		ReadFromUDP([]byte) (int, *net.UDPAddr, error)
	}); ok {
		bypasses["ReadFromUDP"] = true
	}
	if _, ok := pc.(interface {
		ReadFromUDPAddrPort([]byte) (int, netip.AddrPort, error)
	}); ok {
		bypasses["ReadFromUDPAddrPort"] = true
	}
	if _, ok := pc.(interface {
		ReadMsgUDP([]byte, []byte) (int, int, int, *net.UDPAddr, error)
	}); ok {
		bypasses["ReadMsgUDP"] = true
	}
	if _, ok := pc.(interface {
		ReadMsgUDPAddrPort([]byte, []byte) (int, int, int, netip.AddrPort, error)
	}); ok {
		bypasses["ReadMsgUDPAddrPort"] = true
	}
	if _, ok := pc.(interface{ Read([]byte) (int, error) }); ok {
		bypasses["Read"] = true
	}
	if _, ok := pc.(*net.UDPConn); ok {
		bypasses["*net.UDPConn"] = true
	}
	if len(bypasses) > 0 {
		t.Errorf("the filtered socket exposes unfiltered reads: %v", bypasses)
	}
	if got, want := pc.LocalAddr().String(), conn.LocalAddr().String(); got != want {
		t.Errorf("LocalAddr %s, want %s", got, want)
	}
}
