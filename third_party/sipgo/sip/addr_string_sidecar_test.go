package sip

import (
	"net"
	"strconv"
	"testing"
)

// TestAddrStringSidecar (sidecar patch): Addr.String and the received datagram's source
// string are what net.JoinHostPort(ip.String(), port) gives, in one allocation.
func TestAddrStringSidecar(t *testing.T) {
	ips := []net.IP{
		net.IPv4(127, 0, 0, 1), net.IP{10, 1, 2, 3}, net.ParseIP("::1"), net.ParseIP("2001:db8::5"),
		net.ParseIP("fe80::1:2:3:4"), net.ParseIP("::ffff:192.0.2.1"), net.ParseIP("::192.0.2.1"), nil, net.IP{1, 2, 3},
	}
	for _, ip := range ips {
		for _, port := range []int{0, 5, 5060, 65535, 70000, -1} {
			for _, zone := range []string{"", "eth0"} {
				u := &net.UDPAddr{IP: ip, Port: port, Zone: zone}
				if got, want := udpAddrString(u), u.String(); got != want {
					t.Errorf("udpAddrString(%#v) = %q, want %q", u, got, want)
				}
			}
			a := Addr{IP: ip, Port: port, Hostname: "h.example"}
			want := net.JoinHostPort(ip.String(), strconv.Itoa(port))
			if ip == nil {
				want = net.JoinHostPort("h.example", strconv.Itoa(port))
			}
			if got := a.String(); got != want {
				t.Errorf("Addr{%v, %d}.String() = %q, want %q", ip, port, got, want)
			}
		}
	}
	a := Addr{IP: net.IPv4(192, 0, 2, 10), Port: 15060}
	u := &net.UDPAddr{IP: net.IPv4(192, 0, 2, 10), Port: 15060}
	var s string
	if n := testing.AllocsPerRun(100, func() { s = a.String() }); n > 1 {
		t.Errorf("Addr.String: %v allocations, want 1", n)
	}
	if n := testing.AllocsPerRun(100, func() { s = udpAddrString(u) }); n > 1 {
		t.Errorf("udpAddrString: %v allocations, want 1", n)
	}
	_ = s
}

// TestAddrStringsSidecar (sidecar patch): the read loop formats a source address once
// while the connection returns the same *net.UDPAddr, and anew for another one.
func TestAddrStringsSidecar(t *testing.T) {
	var a addrStrings
	u := &net.UDPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 5060}
	if got := a.of(u); got != "192.0.2.1:5060" {
		t.Fatalf("of = %q", got)
	}
	if n := testing.AllocsPerRun(100, func() { _ = a.of(u) }); n != 0 {
		t.Errorf("same address again: %v allocations, want 0", n)
	}
	v := &net.UDPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 5060}
	v2 := &net.UDPAddr{IP: net.IPv4(192, 0, 2, 2), Port: 5062}
	if got := a.of(v2); got != "192.0.2.2:5062" {
		t.Errorf("another address: %q", got)
	}
	if got := a.of(v); got != "192.0.2.1:5060" {
		t.Errorf("an equal address at another pointer: %q", got)
	}
	if got := a.of(&net.TCPAddr{IP: net.IPv4(10, 0, 0, 1), Port: 1}); got != "10.0.0.1:1" {
		t.Errorf("a non-UDP address: %q", got)
	}
}

// TestResponseRemoteAddressSidecar (sidecar patch): a response made from a request with a
// resolved address sends there without parsing its destination back (no allocation), and
// to the new destination once SetDestination changes it.
func TestResponseRemoteAddressSidecar(t *testing.T) {
	req := testCreateRequest(t, "INVITE", "sip:bob@127.0.0.1:5060", "UDP", "127.0.0.2:5066")
	req.raddr = Addr{IP: net.ParseIP("192.0.2.9"), Port: 5066, Hostname: "192.0.2.9"}
	res := NewResponseFromRequest(req, 200, "OK", nil)
	if res.Destination() != "192.0.2.9:5066" {
		t.Fatalf("destination %q", res.Destination())
	}
	var a Addr
	if n := testing.AllocsPerRun(100, func() { a = res.remoteAddress() }); n != 0 {
		t.Errorf("remoteAddress: %v allocations, want 0", n)
	}
	if !a.IP.Equal(net.IPv4(192, 0, 2, 9)) || a.Port != 5066 || a.Hostname != "192.0.2.9:5066" {
		t.Errorf("remoteAddress = %+v", a)
	}
	res.SetDestination("198.51.100.1:5070")
	if a = res.remoteAddress(); !a.IP.Equal(net.IPv4(198, 51, 100, 1)) || a.Port != 5070 {
		t.Errorf("after SetDestination: remoteAddress = %+v", a)
	}
}

// A response to a request from IP:port whose resolved address is the same takes the
// request's source string as its destination, formatted again only when it differs.
func TestResponseDestinationFromSourceSidecar(t *testing.T) {
	for _, tc := range []struct {
		src  string
		ip   string
		port int
	}{
		{"192.0.2.9:5066", "192.0.2.9", 5066},
		{"192.0.2.9:5066", "192.0.2.9", 5060}, // Via port without rport
		{"[2001:db8::1]:5070", "2001:db8::1", 5070},
		{"[2001:db8::1]:5070", "2001:db8::2", 5070},
		{"[::ffff:192.0.2.1]:5060", "::ffff:192.0.2.1", 5060}, // printed as IPv4 by net.IP
	} {
		req := testCreateRequest(t, "BYE", "sip:bob@127.0.0.1:5060", "UDP", "127.0.0.2:5066")
		req.SetSource(tc.src)
		req.raddr = Addr{IP: net.ParseIP(tc.ip), Port: tc.port, Hostname: tc.ip}
		want := req.raddr.String()
		if got := NewResponseFromRequest(req, 200, "OK", nil).Destination(); got != want {
			t.Errorf("source %s, raddr %s: destination %q, want %q", tc.src, want, got, want)
		}
	}
	req := testCreateRequest(t, "BYE", "sip:bob@127.0.0.1:5060", "UDP", "127.0.0.2:5066")
	req.SetSource("192.0.2.9:5066")
	req.raddr = Addr{IP: net.ParseIP("192.0.2.9"), Port: 5066, Hostname: "192.0.2.9"}
	if n := testing.AllocsPerRun(100, func() {
		if req.raddrString() != "192.0.2.9:5066" {
			t.Fatal("wrong destination")
		}
	}); n != 0 {
		t.Fatalf("the destination of a response to its request's source: %.0f allocations, want 0", n)
	}
}
