package sipsvc_test

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/sidecar-voip/sidecar/internal/lazylog"
	"github.com/sidecar-voip/sidecar/rtp"
	"github.com/sidecar-voip/sidecar/sipsvc"
)

// maxStackPerCall bounds the goroutine stack an answered call holds while its dialplan waits
// (Echo): the call's goroutine waits ~2 KB deep, in a 4 KB stack (8 KB when Go's adaptive
// starting stack size is 8 KB at its start), because routing and answering, which go 10-16
// KB deep, run off it (package shallow), and it is not sipgo's handler goroutine (startCall).
// Run on it, they left every active call with a 16 KB stack; on sipgo's handler goroutine,
// with 8-9 KB.
const maxStackPerCall = 7 << 10

// echoWaiters counts the goroutines waiting in a media session's Echo.
func echoWaiters() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return bytes.Count(buf[:n], []byte("rtp.(*Session).Echo("))
		}
		buf = make([]byte, 2*len(buf))
	}
}

func stackInuse() uint64 {
	runtime.GC()
	runtime.GC() // stacks shrink during a collection's scan
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.StackInuse
}

// echoCalls is a sidecar with its own RTP engine (ports portMin-portMax) that logs as
// "sidecar serve" at log-level = warn (as bench/media.sh runs it: a call's Debug lines,
// written on its goroutine, would grow its stack), and a UAC placing answered calls to Echo.
type echoCalls struct {
	t *testing.T
	e *env
	u *rawUAC
}

func newEchoCalls(t *testing.T, portMin, portMax int) *echoCalls {
	t.Helper()
	engine, err := rtp.NewEngine(rtp.Config{
		PortMin: portMin, PortMax: portMax, Address: netip.MustParseAddr("127.0.0.1"),
		Bind: netip.MustParseAddr("127.0.0.1"),
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { engine.Close() })
	log := slog.New(lazylog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelWarn})))
	e := startEnvOpts(t, nil, func(o *sipsvc.Options) { o.Media, o.Log = engine, log })
	return &echoCalls{t: t, e: e, u: newRawUAC(t, "127.0.0.1", e.udp)}
}

// call places answered echo call i (its RTP port 40000+2i) and acknowledges the 200.
func (c *echoCalls) call(i int) {
	c.t.Helper()
	offer := fmt.Sprintf("v=0\r\no=alice 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"+
		"m=audio %d RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n", 40000+2*i)
	inv := msg{method: "INVITE", ruri: "sip:echo@" + c.e.udp.String(), toUser: "echo", body: offer,
		headers: []string{"X-Caller-Template: sub"}}
	c.u.send(c.u.text(&inv))
	ok := c.u.final(5 * time.Second)
	if ok.StatusCode != 200 {
		c.t.Fatalf("call %d: got %d, want 200", i, ok.StatusCode)
	}
	c.u.send(c.u.ackFor(inv, ok))
}

// waitEcho waits (10 s at most) until want calls wait in Echo.
func (c *echoCalls) waitEcho(want int) {
	c.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for echoWaiters() < want {
		if time.Now().After(deadline) {
			c.t.Fatalf("%d of %d calls waiting in Echo after 10 s", echoWaiters(), want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestActiveCallStack: answered calls waiting in Echo hold at most maxStackPerCall of stack
// each (measured after a GC: what a collection cannot shrink).
func TestActiveCallStack(t *testing.T) {
	// Go starts a goroutine with the average stack in use at the last collection (adaptive
	// stack start), rounded up to a power of two: 4 KB here, or 8 KB when the collection
	// before a round saw deeper goroutines. A round of 8 KB starts is not the fault this
	// test looks for (routing or answering run on the call's goroutine: 16 KB, or sipgo's
	// handler goroutine kept: 8-9 KB, every round), so up to rounds rounds of n more calls
	// are placed, and the test passes on the first within the bound.
	const n, rounds = 100, 4
	c := newEchoCalls(t, 32000, 32000+2*n*rounds)
	var seen []uint64
	for r := range rounds {
		before := stackInuse()
		for i := r * n; i < (r+1)*n; i++ {
			c.call(i)
		}
		c.waitEcho((r + 1) * n)
		after := stackInuse()
		per := (after - min(before, after)) / n
		t.Logf("round %d: stack per active echo call: %d B (%d KiB in use before the calls, %d after)", r+1, per, before>>10, after>>10)
		if per <= maxStackPerCall {
			return
		}
		seen = append(seen, per)
	}
	t.Errorf("an active echo call holds %v B of stack in %d rounds, want <= %d in one", seen, rounds, maxStackPerCall)
}

// maxGoroutinesPerCall bounds the goroutines an answered call holds while its dialplan
// waits (Echo): its own goroutine only. sipgo's handler goroutine of the INVITE has returned
// at the ACK (startCall), the shallow worker that answered it is free again, and the
// call's timers (maximum duration, 100 Trying, media watch) are shared, not goroutines.
const maxGoroutinesPerCall = 1

// TestActiveCallGoroutines: answered calls waiting in Echo hold at most
// maxGoroutinesPerCall goroutines each. Idle workers kept for the next call (package
// shallow's, at most one per call set up at once) may outlive the calls that made them,
// hence a margin of n/10 over the bound for n calls.
func TestActiveCallGoroutines(t *testing.T) {
	const n = 50
	c := newEchoCalls(t, 34000, 34000+2*(n+5))
	for i := range 5 { // warm up: the service's own goroutines, a shallow worker
		c.call(n + i)
	}
	c.waitEcho(5)
	before := runtime.NumGoroutine()
	for i := range n {
		c.call(i)
	}
	c.waitEcho(n + 5)
	after := runtime.NumGoroutine()
	per := float64(after-before) / n
	t.Logf("goroutines per active echo call: %.2f (%d before %d calls, %d after)", per, before, n, after)
	if after-before > n*maxGoroutinesPerCall+n/10 {
		t.Errorf("%d active echo calls added %d goroutines, want <= %d (+%d)", n, after-before, n*maxGoroutinesPerCall, n/10)
	}
}
