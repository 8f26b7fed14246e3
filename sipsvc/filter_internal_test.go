package sipsvc

import (
	"errors"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/google/go-cmp/cmp"
	"github.com/sidecar-voip/sidecar/config"
)

// The white-box tests of the trust filter: the datagram peek, the gate and the idle
// timeout. The end-to-end behaviour (CANCEL, ACK, TCP, TLS, drop) is in filter_test.go.

func TestIsAnswerableRequest(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"INVITE sip:bob@192.0.2.1 SIP/2.0\r\nVia: x\r\n\r\n", true},
		{"OPTIONS sip:192.0.2.1:5060 SIP/2.0\r\n", true},
		{"BYE sips:bob@example.com;transport=tls SIP/2.0\r\n", true},
		{"invite SIP:bob@h SIP/2.0\r\n", true},
		{"X-CUSTOM.1 sip:h SIP/2.0\r\n", true},
		{"ACK sip:bob@h SIP/2.0\r\n", false},
		{"ack sip:bob@h SIP/2.0\r\n", false},
		{"CANCEL sip:bob@h SIP/2.0\r\n", false},
		{"Cancel sip:bob@h SIP/2.0\r\n", false},
		{"SIP/2.0 200 OK\r\n", false},
		{"SIP/2.0 487 Request Terminated\r\n", false},
		{"", false},
		{"\r\n\r\n", false},
		{"\r\nINVITE sip:h SIP/2.0\r\n", false},
		{" INVITE sip:h SIP/2.0\r\n", false},
		{"INVITE  sip:h SIP/2.0\r\n", false},
		{"INVITE\tsip:h SIP/2.0\r\n", false},
		{"INVITE tel:+15551234 SIP/2.0\r\n", false},
		{"INVITE sip:h SIP/2.0", false},
		{"INVITE sip:h SIP/2.0\r", false},
		{"INVITE sip:h SIP/2.0\n", false},
		{"INVITE sip:h SIP/1.0\r\n", false},
		{"INVITE sip:h sip/2.0\r\n", false},
		{"INVITE sip:h x SIP/2.0\r\n", false},
		{"INVITE sip: SIP/2.0\r\n", true},
		{"INVITE sip:SIP/2.0\r\n", false},
		{"INVITE", false},
		{"INVITE ", false},
		{"\x00\x01\x02garbage", false},
		{"ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFG sip:h SIP/2.0\r\n", false}, // 33-char method
		{"ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEF sip:h SIP/2.0\r\n", true},   // 32
	}
	for _, tc := range tests {
		if got := isAnswerableRequest([]byte(tc.in)); got != tc.want {
			t.Errorf("isAnswerableRequest(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

// FuzzIsAnswerableRequest checks the property the filter relies on: whatever sipgo parses
// as a response, an ACK or a CANCEL is never let through for an untrusted source, and the
// peek never panics.
func FuzzIsAnswerableRequest(f *testing.F) {
	for _, s := range []string{
		"INVITE sip:bob@h SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKa\r\nCSeq: 1 INVITE\r\n\r\n",
		"CANCEL sip:bob@h SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKa\r\nCSeq: 1 CANCEL\r\n\r\n",
		"cAnCeL sip:bob@h SIP/2.0\r\nCSeq: 1 CANCEL\r\n\r\n",
		"ACK sip:bob@h SIP/2.0\r\nCSeq: 1 ACK\r\n\r\n",
		"SIP/2.0 200 OK\r\nCSeq: 1 INVITE\r\n\r\n",
		"\r\n\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ok := isAnswerableRequest(data)
		if !ok {
			return
		}
		m, err := sip.NewParser().ParseSIP(append([]byte(nil), data...))
		if err != nil {
			return // sipgo answers 400 or drops it: no transaction is matched
		}
		switch m := m.(type) {
		case *sip.Response:
			t.Fatalf("%q passes the filter but sipgo parses a response", data)
		case *sip.Request:
			if m.IsAck() || m.IsCancel() {
				t.Fatalf("%q passes the filter but sipgo parses a %s", data, m.Method)
			}
		}
	})
}

// refusals records what a gate refused.
type refusals struct{ got []string }

func (r *refusals) refuse(src netip.AddrPort, what string) {
	r.got = append(r.got, what+" from "+src.String())
}

// The gate unmaps IPv4-mapped IPv6 sources (a dual-stack socket reports IPv4 peers so)
// before the check, in both directions.
func TestTrustGateMappedSources(t *testing.T) {
	var r refusals
	g := testGate(config.MustParseTrustList("127.0.0.1/32"), false, r.refuse)
	response := []byte("SIP/2.0 200 OK\r\n\r\n")
	if !g.admitDatagram(netip.MustParseAddrPort("[::ffff:127.0.0.1]:5060"), response) {
		t.Error("::ffff:127.0.0.1 refused with 127.0.0.1/32 trusted")
	}
	if g.admitDatagram(netip.MustParseAddrPort("[::ffff:127.0.0.2]:5060"), response) {
		t.Error("::ffff:127.0.0.2 admitted with 127.0.0.1/32 trusted")
	}
	if g.admitDatagram(netip.AddrPort{}, response) {
		t.Error("a datagram without a source admitted")
	}
	want := []string{"udp datagram from [::ffff:127.0.0.2]:5060", "udp datagram from invalid AddrPort"}
	if diff := cmp.Diff(want, r.got); diff != "" {
		t.Errorf("refusals (-want +got):\n%s", diff)
	}
}

// With untrusted = reject an untrusted request goes up (for the handler's 403); with drop
// nothing does.
func TestTrustGateModes(t *testing.T) {
	src := netip.MustParseAddrPort("127.0.0.2:5060")
	req := []byte("OPTIONS sip:h SIP/2.0\r\n\r\n")
	cancel := []byte("CANCEL sip:h SIP/2.0\r\n\r\n")
	for _, tc := range []struct {
		reject            bool
		wantReq, wantCncl bool
	}{{true, true, false}, {false, false, false}} {
		var r refusals
		g := testGate(config.MustParseTrustList("127.0.0.1/32"), tc.reject, r.refuse)
		if got := g.admitDatagram(src, req); got != tc.wantReq {
			t.Errorf("reject=%v: OPTIONS admitted %v, want %v", tc.reject, got, tc.wantReq)
		}
		if got := g.admitDatagram(src, cancel); got != tc.wantCncl {
			t.Errorf("reject=%v: CANCEL admitted %v, want %v", tc.reject, got, tc.wantCncl)
		}
		wantRefused := 1
		if !tc.reject {
			wantRefused = 2
		}
		if len(r.got) != wantRefused {
			t.Errorf("reject=%v: %d refusals %v, want %d", tc.reject, len(r.got), r.got, wantRefused)
		}
	}
}

// A trusted stream connection that stays silent past the idle timeout reads EOF, which
// sipgo treats as the peer closing; one that talks is read normally.
func TestIdleConnTimesOut(t *testing.T) {
	ln, err := net.ListenTCP("tcp4", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var r refusals
	l := &trustListener{TCPListener: ln, what: "tcp connection", idle: 200 * time.Millisecond,
		log:  slog.New(slog.DiscardHandler),
		gate: testGate(config.MustParseTrustList("127.0.0.1/32"), false, r.refuse)}
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	conn, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := client.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 16)
	if n, err := conn.Read(buf); err != nil || string(buf[:n]) != "hello" {
		t.Fatalf("read %q, %v; want hello", buf[:n], err)
	}
	// Nothing more: the next read must end, with EOF, within a bounded wait.
	done := make(chan error, 1)
	go func() { _, err := conn.Read(buf); done <- err }()
	select {
	case err := <-done:
		if !errors.Is(err, io.EOF) {
			t.Fatalf("idle read: %v, want EOF", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("idle read did not end")
	}
	if len(r.got) != 0 {
		t.Errorf("trusted connection refused: %v", r.got)
	}
}

// BenchmarkTrustFilter measures the filter's cost per datagram.
//
//   - peek/*: the gate's decision alone (trust list lookup and request-line peek), CPU only;
//     "counted" with the server's real refusal (counter, rate-limited log).
//   - socket/plain: one datagram written and read through the bare socket (the baseline).
//   - socket/filtered: the same through trustPacketConn (a trusted source: passed up).
//   - socket/dropped: per op, one untrusted datagram discarded and one trusted passed up;
//     compare with plain to see what a discard costs (allocs/op must not grow).
func BenchmarkTrustFilter(b *testing.B) {
	trusted := config.MustParseTrustList("10.0.0.0/8, 192.0.2.7:5060, 127.0.0.1/32")
	invite := []byte("INVITE sip:bob@127.0.0.1:5080 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.2:5060;branch=z9hG4bKx\r\n" +
		"CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n")
	response := []byte("SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKx\r\n\r\n")
	in, out := netip.MustParseAddrPort("127.0.0.1:5060"), netip.MustParseAddrPort("127.0.0.2:5060")
	count := 0
	g := testGate(trusted, true, func(netip.AddrPort, string) { count++ })
	for _, bc := range []struct {
		name string
		src  netip.AddrPort
		data []byte
	}{
		{"peek/trusted", in, invite},
		{"peek/untrusted-request", out, invite},
		{"peek/untrusted-response", out, response},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				g.admitDatagram(bc.src, bc.data)
			}
		})
	}
	// The server's own refusal: the counter and the once-a-second log line.
	b.Run("peek/untrusted-response-counted", func(b *testing.B) {
		s := &Server{log: slog.New(slog.DiscardHandler)}
		g := testGate(trusted, true, s.refuseAtSocket)
		b.ReportAllocs()
		for b.Loop() {
			g.admitDatagram(out, response)
		}
		if s.Stats().Untrusted == 0 {
			b.Fatal("nothing counted")
		}
	})

	listen := func(b *testing.B, ip string) *net.UDPConn {
		c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.ParseIP(ip)})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { c.Close() })
		return c
	}
	srv := listen(b, "127.0.0.1")
	dst := srv.LocalAddr().(*net.UDPAddr).AddrPort()
	good, bad := listen(b, "127.0.0.1"), listen(b, "127.0.0.2")
	filtered := &trustPacketConn{UDPConn: srv, gate: g}
	buf := make([]byte, 65535)
	run := func(b *testing.B, conn net.PacketConn, untrustedToo bool) {
		b.ReportAllocs()
		for b.Loop() {
			if untrustedToo {
				if _, err := bad.WriteToUDPAddrPort(response, dst); err != nil {
					b.Fatal(err)
				}
			}
			if _, err := good.WriteToUDPAddrPort(invite, dst); err != nil {
				b.Fatal(err)
			}
			if _, _, err := conn.ReadFrom(buf); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("socket/plain", func(b *testing.B) { run(b, srv, false) })
	b.Run("socket/filtered", func(b *testing.B) { run(b, filtered, false) })
	b.Run("socket/dropped", func(b *testing.B) { run(b, filtered, true) })
}
