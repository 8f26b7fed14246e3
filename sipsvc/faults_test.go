package sipsvc_test

import (
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/sidecar-voip/sidecar/internal/reliability"
)

// TCP connections that stop half-way through a message, then close or reset: while they are
// stalled, other callers are answered over UDP and over TCP; once they are gone the service
// holds no goroutine for them.
func TestTCPStallAndReset(t *testing.T) {
	e := startEnv(t, nil)
	tcp := tcpAddrOf(t, e)
	probe(t, "udp", e.udp)
	probe(t, "tcp", tcp)
	baseG, _ := settle(0, 0)

	const stalled = 100
	u := newRawUAC(t, "127.0.0.1", e.udp)
	half := u.text(&msg{method: "INVITE", ruri: "sip:busy@" + e.udp.String(), toUser: "busy", body: offerSDP,
		headers: []string{"X-Caller-Template: sub"}})
	half = half[:len(half)/2]
	conns := make([]*net.TCPConn, 0, stalled)
	for range stalled {
		c, err := net.DialTCP("tcp", nil, net.TCPAddrFromAddrPort(tcp))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Write([]byte(half)); err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	t.Cleanup(func() {
		for _, c := range conns {
			c.Close()
		}
	})
	// While they stall: a call over UDP and OPTIONS over a new TCP connection.
	inv := msg{method: "INVITE", ruri: "sip:busy@" + e.udp.String(), toUser: "busy", body: offerSDP,
		headers: []string{"X-Caller-Template: sub"}}
	u.send(u.text(&inv))
	res := u.final(5 * time.Second)
	if res.StatusCode != 486 {
		t.Fatalf("INVITE over UDP with %d stalled TCP connections: %d, want 486", stalled, res.StatusCode)
	}
	u.send(u.ackNon2xx(inv, res))
	probe(t, "tcp", tcp)

	// Half reset (RST: linger 0), half closed with a FIN, each mid-message.
	for i, c := range conns {
		if i%2 == 0 {
			c.SetLinger(0)
		}
		c.Close()
	}
	conns = nil
	probe(t, "udp", e.udp)
	probe(t, "tcp", tcp)
	u.conn.Close()
	g, _ := settle(baseG+2, 20*time.Second)
	if g > baseG+2 {
		t.Fatalf("goroutines: %d after the stalled connections closed, %d before", g, baseG)
	}
	reliability.Log(t, reliability.Row{
		Test:   "sipsvc TestTCPStallAndReset",
		Thrown: fmt.Sprintf("%d TCP connections each stalled half-way through an INVITE, then 50 reset (RST) and 50 closed mid-message", stalled),
		Did:    "answered a UDP call (486) and TCP OPTIONS while they stalled and after; dropped each partial message",
		Lost:   fmt.Sprintf("nothing: goroutines %d -> %d", baseG, g),
	})
}
