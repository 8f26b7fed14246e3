package sipsvc

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/sidecar-voip/sidecar/config"
)

// fakeAdmitter refuses every datagram starting with "INVITE", queuing "SIP/2.0 503 <uri>" for
// it, and records what it saw.
type fakeAdmitter struct {
	arrived []time.Time
	stamped []bool
	sent    []string
}

func (f *fakeAdmitter) admitNewCall(src netip.AddrPort, b []byte, now, arrived time.Time,
	reply replyQueue, _ *backlogGauge) bool {
	f.arrived = append(f.arrived, arrived)
	f.stamped = append(f.stamped, !arrived.Equal(now))
	if bytes.HasPrefix(b, []byte("INVITE")) {
		uri, _, _ := bytes.Cut(b[len("INVITE "):], []byte(" "))
		reply.queue(fmt.Appendf(reply.scratch(), "SIP/2.0 503 %s", uri), src)
		return false
	}
	return true
}

func (f *fakeAdmitter) sentResponse(b []byte) { f.sent = append(f.sent, string(b)) }

// batchEnv is a filtered socket on loopback and two clients.
type batchEnv struct {
	srv  *net.UDPConn
	pc   *trustPacketConn
	dst  netip.AddrPort
	a, b *net.UDPConn
	bad  []string // datagrams the framing check discarded
}

func newBatchEnv(t *testing.T, batch int, admit datagramAdmitter) *batchEnv {
	t.Helper()
	listen := func() *net.UDPConn {
		c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.ParseIP("127.0.0.1")})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	e := &batchEnv{srv: listen(), a: listen(), b: listen()}
	e.dst = e.srv.LocalAddr().(*net.UDPAddr).AddrPort()
	g := testGate(config.MustParseTrustList("127.0.0.0/8"), false, nil)
	g.malformed = func(_ netip.AddrPort, why string) { e.bad = append(e.bad, why) }
	e.pc = &trustPacketConn{UDPConn: e.srv, gate: g, admit: admit, batch: batch}
	return e
}

// send writes msg from c to the filtered socket; on loopback it is queued at the socket
// when the write returns.
func (e *batchEnv) send(t *testing.T, c *net.UDPConn, msg string) {
	t.Helper()
	if _, err := c.WriteToUDPAddrPort([]byte(msg), e.dst); err != nil {
		t.Fatal(err)
	}
}

func options(i int) string {
	return fmt.Sprintf("OPTIONS sip:x@127.0.0.1 SIP/2.0\r\nCSeq: %d OPTIONS\r\nContent-Length: 0\r\n\r\n", i)
}

func invite(uri string) string {
	return "INVITE " + uri + " SIP/2.0\r\nContent-Length: 0\r\n\r\n"
}

func batched() bool {
	return runtime.GOOS == "linux" && (runtime.GOARCH == "amd64" || runtime.GOARCH == "arm64")
}

// TestBatchReadDeliversQueuedInOrder: datagrams queued before the first read come up one
// by one, in order, each with its source and its receive timestamp; batched, one read of
// the socket took them all; one per read (the fallback), each read took one.
func TestBatchReadDeliversQueuedInOrder(t *testing.T) {
	for _, batch := range []int{0, 1} {
		t.Run(fmt.Sprintf("batch=%d", batch), func(t *testing.T) {
			f := &fakeAdmitter{}
			e := newBatchEnv(t, batch, f)
			buf := make([]byte, 2048)
			// The first read starts the ring and the timestamps; a datagram to begin.
			e.send(t, e.a, options(0))
			if _, _, err := e.pc.ReadFrom(buf); err != nil {
				t.Fatal(err)
			}
			const n = 6
			from := []*net.UDPConn{e.a, e.b, e.b, e.a, e.b, e.a}
			for i := 1; i <= n; i++ {
				e.send(t, from[i-1], options(i))
			}
			for i := 1; i <= n; i++ {
				k, addr, err := e.pc.ReadFrom(buf)
				if err != nil {
					t.Fatal(err)
				}
				if i == 1 {
					want := n
					if batch == 1 || !batched() {
						want = 1
					}
					if got := len(e.pc.rx.keep); got != want {
						t.Errorf("one read of the socket took %d datagrams, want %d", got, want)
					}
				}
				if got, want := string(buf[:k]), options(i); got != want {
					t.Errorf("datagram %d: %q, want %q", i, got, want)
				}
				if got, want := addr.String(), from[i-1].LocalAddr().String(); got != want {
					t.Errorf("datagram %d from %s, want %s", i, got, want)
				}
			}
			if len(f.arrived) != n+1 {
				t.Fatalf("the overload check saw %d datagrams, want %d", len(f.arrived), n+1)
			}
			for i := 1; i < len(f.arrived); i++ {
				if runtime.GOOS == "linux" && !f.stamped[i] {
					t.Errorf("datagram %d carried no receive timestamp", i)
				}
				if f.arrived[i].Before(f.arrived[i-1]) {
					t.Errorf("datagram %d arrived at %v, before datagram %d (%v)", i, f.arrived[i], i-1, f.arrived[i-1])
				}
			}
		})
	}
}

// TestBatchReadTruncated: a datagram larger than the read buffer is discarded by the
// framing check (never handed up cut short); the datagrams around it still come up.
func TestBatchReadTruncated(t *testing.T) {
	for _, batch := range []int{0, 1} {
		t.Run(fmt.Sprintf("batch=%d", batch), func(t *testing.T) {
			e := newBatchEnv(t, batch, nil)
			buf := make([]byte, 512)
			big := "OPTIONS sip:x@127.0.0.1 SIP/2.0\r\nX-Pad: " + strings.Repeat("p", 1000) +
				"\r\nContent-Length: 0\r\n\r\n"
			e.send(t, e.a, options(1))
			e.send(t, e.a, big)
			e.send(t, e.b, options(2))
			for i := 1; i <= 2; i++ {
				k, _, err := e.pc.ReadFrom(buf)
				if err != nil {
					t.Fatal(err)
				}
				if got, want := string(buf[:k]), options(i); got != want {
					t.Errorf("read %d: %q, want %q", i, got, want)
				}
			}
			if runtime.GOOS == "linux" && (len(e.bad) != 1 || e.bad[0] != "larger than the read buffer") {
				t.Errorf("framing check discarded %q, want the large datagram as larger than the read buffer", e.bad)
			}
		})
	}
}

// TestBatchRefusalsWritten: the 503s the overload check queues for a batch are all
// written, in order, to their sources (not shown to it as sent: they answer INVITEs it
// refused, which wait for nothing), and the refused datagrams never come up; the admitted
// one does.
func TestBatchRefusalsWritten(t *testing.T) {
	for _, batch := range []int{0, 1} {
		t.Run(fmt.Sprintf("batch=%d", batch), func(t *testing.T) {
			f := &fakeAdmitter{}
			e := newBatchEnv(t, batch, f)
			for i := range 3 {
				e.send(t, e.a, invite(fmt.Sprint("sip:a", i)))
			}
			e.send(t, e.b, invite("sip:b0"))
			e.send(t, e.a, options(7))
			buf := make([]byte, 2048)
			k, addr, err := e.pc.ReadFrom(buf)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := string(buf[:k]), options(7); got != want || addr.String() != e.a.LocalAddr().String() {
				t.Errorf("came up %q from %s, want %q from %s", got, addr, want, e.a.LocalAddr())
			}
			if len(f.sent) != 0 {
				t.Errorf("the filter's own 503s shown as sent: %q", f.sent)
			}
			want := []string{"SIP/2.0 503 sip:a0", "SIP/2.0 503 sip:a1", "SIP/2.0 503 sip:a2", "SIP/2.0 503 sip:b0"}
			recv := func(c *net.UDPConn) string {
				t.Helper()
				if err := c.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
					t.Fatal(err)
				}
				n, src, err := c.ReadFromUDPAddrPort(buf)
				if err != nil {
					t.Fatal(err)
				}
				if src != e.dst {
					t.Errorf("503 from %s, want the socket %s", src, e.dst)
				}
				return string(buf[:n])
			}
			for _, w := range want[:3] {
				if got := recv(e.a); got != w {
					t.Errorf("a got %q, want %q", got, w)
				}
			}
			if got := recv(e.b); got != want[3] {
				t.Errorf("b got %q, want %q", got, want[3])
			}
		})
	}
}

// TestBatchReadClosed: closing the socket ends a read waiting on an empty socket with
// net.ErrClosed, as sipgo expects to stop its loop.
func TestBatchReadClosed(t *testing.T) {
	e := newBatchEnv(t, 0, &fakeAdmitter{})
	done := make(chan error, 1)
	go func() {
		_, _, err := e.pc.ReadFrom(make([]byte, 2048))
		done <- err
	}()
	// The read parks on the empty socket; Close wakes it whether it parked yet or not.
	e.pc.Close()
	if err := <-done; !errors.Is(err, net.ErrClosed) {
		t.Errorf("read after close: %v, want net.ErrClosed", err)
	}
}
