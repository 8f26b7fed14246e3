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
