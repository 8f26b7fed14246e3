package sipsvc

import (
	"net"
	"testing"

	"github.com/sidecar-voip/sidecar/config"
)

// TestTrustPacketConnSourceAddr: datagrams from one source come up with the same
// *net.UDPAddr (no new address per datagram), one from another source with its own, each
// the datagram's true source.
func TestTrustPacketConnSourceAddr(t *testing.T) {
	listen := func(ip string) *net.UDPConn {
		c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.ParseIP(ip)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	srv := listen("127.0.0.1")
	dst := srv.LocalAddr().(*net.UDPAddr).AddrPort()
	a, b := listen("127.0.0.1"), listen("127.0.0.1")
	pc := &trustPacketConn{UDPConn: srv, gate: testGate(config.MustParseTrustList("127.0.0.0/8"), false, nil)}
	msg := []byte("OPTIONS sip:x@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKx\r\n" +
		"CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n")
	buf := make([]byte, 2048)
	read := func(from *net.UDPConn) *net.UDPAddr {
		t.Helper()
		if _, err := from.WriteToUDPAddrPort(msg, dst); err != nil {
			t.Fatal(err)
		}
		_, addr, err := pc.ReadFrom(buf)
		if err != nil {
			t.Fatal(err)
		}
		u := addr.(*net.UDPAddr)
		if u.String() != from.LocalAddr().String() {
			t.Fatalf("source %v, sent from %v", u, from.LocalAddr())
		}
		return u
	}
	first := read(a)
	if again := read(a); again != first {
		t.Error("a second datagram from the same source came up with a new address")
	}
	other := read(b)
	if other == first {
		t.Error("another source came up with the first source's address")
	}
	if back := read(a); back == other {
		t.Error("the first source again came up with the other source's address")
	}
}
