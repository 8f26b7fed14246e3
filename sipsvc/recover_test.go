package sipsvc

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/sidecar-voip/sidecar/config"
)

// A panic in any handler is answered 500, counted, and the service answers the next request.
func TestGuardRecoversHandlerPanic(t *testing.T) {
	cfg := config.Default()
	cfg.SIP.Listen = []config.Listen{{Transport: "udp", Addr: netip.MustParseAddrPort("127.0.0.1:0")}}
	s, err := New(Options{Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	s.srv.OnRequest(sip.MESSAGE, s.guard(func(*sip.Request, sip.ServerTransaction) { panic("handler panic") }))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	}()
	<-s.Ready()
	srv := s.Addrs()[0].Addr
	conn, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(srv))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ask := func(method string) string {
		fmt.Fprintf(conn, "%s sip:x@%s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bK%s\r\nMax-Forwards: 70\r\n"+
			"From: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:x@%s>\r\nCall-ID: %s-panic\r\nCSeq: 1 %s\r\n"+
			"Content-Length: 0\r\n\r\n", method, srv, conn.LocalAddr(), method, srv, method, method)
		conn.SetReadDeadline(time.Now().Add(2 * time.Second))
		buf := make([]byte, 2048)
		n, err := conn.Read(buf)
		if err != nil {
			t.Fatalf("%s: %v", method, err)
		}
		line, _, _ := strings.Cut(string(buf[:n]), "\r\n")
		return line
	}
	if got := ask("MESSAGE"); got != "SIP/2.0 500 Server Internal Error" {
		t.Errorf("panicking handler: got %q, want 500", got)
	}
	if got := ask("OPTIONS"); got != "SIP/2.0 200 OK" {
		t.Errorf("after the panic: got %q, want 200", got)
	}
	if n := s.Stats().Panics; n != 1 {
		t.Errorf("Stats.Panics = %d, want 1", n)
	}
}
