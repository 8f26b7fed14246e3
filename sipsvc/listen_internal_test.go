package sipsvc

import (
	"net"
	"testing"
)

// TestSetReadBufferReportsGranted: the size read back is what the kernel granted, at least
// the size asked when it is under net.core.rmem_max (64 KiB is, everywhere), never 0.
func TestSetReadBufferReportsGranted(t *testing.T) {
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	got, err := setReadBuffer(c, 64<<10)
	if err != nil {
		t.Fatal(err)
	}
	if got < 64<<10 {
		t.Errorf("granted %d bytes, want at least %d", got, 64<<10)
	}
}

// TestUDPSendersSharePort: datagrams sent through the duplicated descriptors, from many
// goroutines at once, all arrive and all leave from the listener's own port; once the
// senders and the socket are closed the port can be bound again (no descriptor left open).
func TestUDPSendersSharePort(t *testing.T) {
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	s, err := newUDPSenders(c, 3)
	if err != nil {
		t.Fatal(err)
	}
	peer, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	const n = 30
	done := make(chan error, n)
	for range n {
		go func() {
			_, err := s.writeTo([]byte("x"), peer.LocalAddr())
			done <- err
		}()
	}
	for range n {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	buf := make([]byte, 16)
	for i := range n {
		_, src, err := peer.ReadFromUDPAddrPort(buf)
		if err != nil {
			t.Fatalf("datagram %d: %v", i, err)
		}
		if src.Port() != uint16(c.LocalAddr().(*net.UDPAddr).Port) {
			t.Fatalf("datagram %d from port %d, want the listener's %s", i, src.Port(), c.LocalAddr())
		}
	}
	addr := c.LocalAddr().(*net.UDPAddr)
	if err := (closers{s, c}).Close(); err != nil {
		t.Fatal(err)
	}
	again, err := net.ListenUDP("udp4", addr)
	if err != nil {
		t.Fatalf("port still bound after close: %v", err)
	}
	again.Close()
}
