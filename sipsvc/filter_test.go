package sipsvc_test

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/sidecar-voip/sidecar/config"
	"github.com/sidecar-voip/sidecar/sipsvc/sipsvctest"
)

// Every test here runs the service on 127.0.0.1 trusting only 127.0.0.1/32; the attacker
// sends from 127.0.0.2.

// quiet is how long a test waits to be sure nothing comes back.
const quiet = 300 * time.Millisecond

func trustLoopbackOnly(c *config.Config) { c.SIP.Trusted = config.MustParseTrustList("127.0.0.1/32") }

// waitStatus reads from u until a response with status code arrives; the test fails after
// timeout or on another final response.
func waitStatus(t *testing.T, u *rawUAC, code int, timeout time.Duration) *sip.Response {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		m := u.next(time.Until(deadline))
		if m == nil {
			t.Fatalf("no %d within %v", code, timeout)
		}
		r, ok := m.(*sip.Response)
		if !ok {
			continue
		}
		if r.StatusCode == code {
			return r
		}
		if r.StatusCode >= 200 {
			t.Fatalf("got %d %s while waiting for %d", r.StatusCode, r.Reason, code)
		}
	}
}

// A CANCEL from an untrusted source copying a trusted caller's INVITE (same Via, branch,
// Call-ID, tags) cancels nothing: sipgo would answer it inside its transaction layer, so it
// must never reach sipgo. The attacker hears nothing, the caller's call rings on and gets
// its real final answer, and the CANCEL is counted.
func TestUntrustedCancelIgnored(t *testing.T) {
	e := startEnv(t, trustLoopbackOnly) // extension "slow" rings for a second, then 486
	in := newRawUAC(t, "127.0.0.1", e.udp)
	out := newRawUAC(t, "127.0.0.2", e.udp)

	inv := msg{method: "INVITE", ruri: "sip:slow@" + e.udp.String(), toUser: "slow", body: offerSDP,
		headers: []string{"X-Caller-Template: sub"}}
	in.send(in.text(&inv))
	waitStatus(t, in, 180, 2*time.Second)

	cancel := inv
	cancel.method, cancel.body, cancel.headers = "CANCEL", "", nil
	forged := in.text(&cancel) // the trusted caller's Via and branch
	out.send(forged)
	out.send(forged) // a retransmission, as a real UAC would
	out.silent(quiet)

	res := in.final(3 * time.Second)
	if res.StatusCode != 486 {
		t.Fatalf("trusted caller: got %d %s, want its real answer 486 (487 means the forged CANCEL worked)",
			res.StatusCode, res.Reason)
	}
	in.send(in.ackNon2xx(inv, res))
	waitFor(t, time.Second, "2 untrusted CANCELs counted", func() bool { return e.srv.Stats().Untrusted == 2 })
	out.silent(quiet)
}

// An ACK from an untrusted source matching a trusted caller's error answer is discarded and
// counted: the server keeps retransmitting its 486 to the caller until the caller's own ACK.
func TestUntrustedACKAbsorbed(t *testing.T) {
	e := startEnv(t, trustLoopbackOnly)
	in := newRawUAC(t, "127.0.0.1", e.udp)
	out := newRawUAC(t, "127.0.0.2", e.udp)

	inv := msg{method: "INVITE", ruri: "sip:busy@" + e.udp.String(), toUser: "busy", body: offerSDP,
		headers: []string{"X-Caller-Template: sub"}}
	in.send(in.text(&inv))
	res := in.final(2 * time.Second)
	if res.StatusCode != 486 {
		t.Fatalf("INVITE busy: got %d, want 486", res.StatusCode)
	}
	out.send(in.ackNon2xx(inv, res)) // the caller's ACK, sent by the attacker
	out.silent(quiet)
	// Had sipgo seen the ACK, its transaction would be confirmed and silent now.
	if again := in.final(3 * time.Second); again.StatusCode != 486 {
		t.Fatalf("retransmission: got %d, want 486", again.StatusCode)
	}
	in.send(in.ackNon2xx(inv, res))
	waitFor(t, time.Second, "the untrusted ACK counted", func() bool { return e.srv.Stats().Untrusted == 1 })
}

// Responses and garbage from an untrusted source are discarded and counted, even with
// untrusted = reject; requests still get their 403.
func TestUntrustedNonRequestsDiscarded(t *testing.T) {
	e := startEnv(t, trustLoopbackOnly)
	out := newRawUAC(t, "127.0.0.2", e.udp)
	for _, junk := range []string{
		"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKx\r\nCSeq: 1 INVITE\r\n\r\n",
		"\x00\x01garbage",
		"INVITE sip:a@b SIP/2.0", // no line end
		"\r\nOPTIONS sip:a@b SIP/2.0\r\n\r\n",
	} {
		out.send(junk)
	}
	out.silent(quiet)
	waitFor(t, time.Second, "4 datagrams counted", func() bool { return e.srv.Stats().Untrusted == 4 })

	out.send(out.text(&msg{method: "OPTIONS", ruri: "sip:" + e.udp.String()}))
	if res := out.final(2 * time.Second); res.StatusCode != 403 {
		t.Fatalf("untrusted OPTIONS: got %d, want 403", res.StatusCode)
	}
	waitFor(t, time.Second, "the OPTIONS counted", func() bool { return e.srv.Stats().Untrusted == 5 })
}

// With untrusted = drop an untrusted source gets no answer at all, not even sipgo's 400 to
// a malformed request; a trusted one still gets 400 or nothing, and the service lives.
func TestUntrustedDropIsSilent(t *testing.T) {
	e := startEnv(t, func(c *config.Config) {
		trustLoopbackOnly(c)
		c.SIP.Untrusted = "drop"
	})
	malformed := "INVITE sip:a@127.0.0.1 SIP/2.0\r\nContent-Length: 0\r\n\r\n" // no Via, no CSeq
	out := newRawUAC(t, "127.0.0.2", e.udp)
	out.send(malformed)
	out.send(out.text(&msg{method: "OPTIONS", ruri: "sip:" + e.udp.String()}))
	out.silent(quiet)
	waitFor(t, time.Second, "2 untrusted datagrams counted", func() bool { return e.srv.Stats().Untrusted == 2 })

	in := newRawUAC(t, "127.0.0.1", e.udp)
	in.send(malformed)
	if m := in.next(quiet); m != nil {
		if r, ok := m.(*sip.Response); !ok || r.StatusCode != 400 {
			t.Fatalf("trusted malformed request: got %q, want 400 or nothing", m.String())
		}
	}
	in.send(in.text(&msg{method: "OPTIONS", ruri: "sip:" + e.udp.String()}))
	if res := in.final(2 * time.Second); res.StatusCode != 200 {
		t.Fatalf("trusted OPTIONS after a malformed request: got %d, want 200", res.StatusCode)
	}
	if got := e.srv.Stats().Untrusted; got != 2 {
		t.Errorf("Stats.Untrusted = %d, want 2 (trusted traffic is not counted)", got)
	}
}

// dialFrom opens a TCP connection from ip to addr.
func dialFrom(t *testing.T, ip string, addr netip.AddrPort) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 2 * time.Second}
	conn, err := d.Dial("tcp", addr.String())
	if err != nil {
		t.Fatalf("dial %s from %s: %v", addr, ip, err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// closedByPeer reports whether err is the end a peer closing the connection gives: EOF, or a
// reset when our bytes reached it after it closed.
func closedByPeer(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET)
}

// A TCP connection from an untrusted source is closed at once, before any SIP is read, and
// counted; a trusted one is served as before.
func TestUntrustedTCPClosed(t *testing.T) {
	e := startEnv(t, trustLoopbackOnly)
	addr := sipsvctest.Addr(t, e.srv, "tcp")
	const n = 20
	for i := range n {
		conn := dialFrom(t, "127.0.0.2", addr)
		conn.SetReadDeadline(time.Now().Add(2 * time.Second))
		got, err := conn.Read(make([]byte, 64))
		if !errors.Is(err, io.EOF) {
			t.Fatalf("connection %d: read %d bytes, %v; want EOF at once", i, got, err)
		}
	}
	waitFor(t, time.Second, "20 connections counted", func() bool { return e.srv.Stats().Untrusted == n })

	in := newStreamUAC(t, dialFrom(t, "127.0.0.1", addr), addr, "TCP")
	in.send(in.text(&msg{method: "OPTIONS", ruri: "sip:" + addr.String()}))
	if res := in.final(2 * time.Second); res.StatusCode != 200 {
		t.Fatalf("trusted OPTIONS over TCP: got %d, want 200", res.StatusCode)
	}
}

// A TLS connection from an untrusted source is closed before the handshake: the client's
// handshake fails with the connection closed, never completes, and it is counted.
func TestUntrustedTLSClosed(t *testing.T) {
	certFile, keyFile, pool := writeCert(t)
	e := startEnv(t, func(c *config.Config) {
		trustLoopbackOnly(c)
		lo := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), 0)
		c.SIP.Listen = append(c.SIP.Listen, config.Listen{Transport: "tls", Addr: lo})
		c.SIP.TLSCert, c.SIP.TLSKey = certFile, keyFile
	})
	addr := sipsvctest.Addr(t, e.srv, "tls")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()

	raw := dialFrom(t, "127.0.0.2", addr)
	err := tls.Client(raw, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}).HandshakeContext(ctx)
	if err == nil {
		t.Fatal("TLS handshake from an untrusted source succeeded")
	}
	if !closedByPeer(err) {
		t.Fatalf("TLS handshake from an untrusted source: %v, want the connection closed (EOF or reset)", err)
	}
	waitFor(t, time.Second, "the connection counted", func() bool { return e.srv.Stats().Untrusted == 1 })

	conn := tls.Client(dialFrom(t, "127.0.0.1", addr), &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"})
	if err := conn.HandshakeContext(ctx); err != nil {
		t.Fatalf("trusted TLS handshake: %v", err)
	}
	in := newStreamUAC(t, conn, addr, "TLS")
	in.send(in.text(&msg{method: "OPTIONS", ruri: "sip:" + addr.String()}))
	if res := in.final(2 * time.Second); res.StatusCode != 200 {
		t.Fatalf("trusted OPTIONS over TLS: got %d, want 200", res.StatusCode)
	}
}
