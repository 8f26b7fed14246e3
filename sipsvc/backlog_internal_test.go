package sipsvc

import (
	"net"
	"testing"
)

// The gauge reads a UDP socket's receive queue: empty at first, fuller with each datagram
// left unread, empty again once they are read; within one batch (until next) it is read once.
func TestBacklogGauge(t *testing.T) {
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.SetReadBuffer(256 << 10); err != nil {
		t.Fatal(err)
	}
	g := newBacklogGauge(conn)
	if g == nil {
		t.Skip("no receive queue gauge on this system")
	}
	if f := g.read(); f != 0 {
		t.Fatalf("empty socket %.3f full, want 0", f)
	}
	const n = 50
	msg := make([]byte, 800)
	for range n {
		if _, err := conn.WriteTo(msg, conn.LocalAddr()); err != nil {
			t.Fatal(err)
		}
	}
	if f := g.read(); f != 0 {
		t.Fatalf("same batch: %.3f full, want the batch's first figure 0 (read once per batch)", f)
	}
	g.next()
	full := g.read()
	t.Logf("%d datagrams of %d bytes queued: %.3f of the buffer", n, len(msg), full)
	if full <= 0 || full > 1 {
		t.Fatalf("%d datagrams queued: %.3f full, want between 0 and 1", n, full)
	}
	if allocs := testing.AllocsPerRun(100, func() { g.next(); g.read() }); allocs != 0 {
		t.Errorf("read allocates %.0f times, want 0", allocs)
	}
	buf := make([]byte, 2048)
	for range n {
		if _, _, err := conn.ReadFrom(buf); err != nil {
			t.Fatal(err)
		}
	}
	g.next()
	if f := g.read(); f >= full {
		t.Fatalf("all read: %.3f full, want less than %.3f", f, full)
	}
}
