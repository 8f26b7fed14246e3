package sip

import (
	"bytes"
	"net"
	"testing"
)

// TestParamsWriteNoAllocSidecar (sidecar patch): writing parameters allocates nothing of
// its own (upstream made string(sep) for every list written).
func TestParamsWriteNoAllocSidecar(t *testing.T) {
	hp := NewParams()
	hp.Add("tag", "abc")
	hp.Add("lr", "")
	var buf bytes.Buffer
	buf.Grow(256)
	hp.ToStringWrite(';', &buf)
	if buf.String() != "tag=abc;lr" {
		t.Fatalf("wrote %q", buf.String())
	}
	if n := testing.AllocsPerRun(100, func() {
		buf.Reset()
		hp.ToStringWrite(';', &buf)
		hp.ToStringWrite('&', &buf)
	}); n != 0 {
		t.Errorf("ToStringWrite: %v allocations, want 0", n)
	}
	buf.Reset()
	hp.ToStringWrite('|', &buf)
	if buf.String() != "tag=abc|lr" {
		t.Errorf("another separator: wrote %q", buf.String())
	}
}

// TestUDPDstAddrSidecar (sidecar patch): a UDP connection sends consecutive messages to one
// address through one *net.UDPAddr, and to another address through its own.
func TestUDPDstAddrSidecar(t *testing.T) {
	var c UDPConnection
	a := c.dstAddr(net.IPv4(192, 0, 2, 1), 5060, "")
	if a.String() != "192.0.2.1:5060" {
		t.Fatalf("address %v", a)
	}
	same := net.IP{192, 0, 2, 1} // the 4-byte form of the same address
	if n := testing.AllocsPerRun(100, func() {
		if c.dstAddr(same, 5060, "") != a {
			t.Fatal("the same address came back as a new one")
		}
	}); n != 0 {
		t.Errorf("same address: %v allocations, want 0", n)
	}
	for _, d := range []struct {
		ip   net.IP
		port int
		zone string
	}{{net.IPv4(192, 0, 2, 2), 5060, ""}, {net.IPv4(192, 0, 2, 1), 5062, ""}, {net.ParseIP("fe80::1"), 5060, "eth0"}} {
		b := c.dstAddr(d.ip, d.port, d.zone)
		if !b.IP.Equal(d.ip) || b.Port != d.port || b.Zone != d.zone {
			t.Errorf("dstAddr(%v, %d, %q) = %v", d.ip, d.port, d.zone, b)
		}
	}
}
