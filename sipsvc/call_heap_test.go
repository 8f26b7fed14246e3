package sipsvc_test

import (
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"runtime"
	"runtime/pprof"
	"testing"
	"time"

	"github.com/sidecar-voip/sidecar/internal/lazylog"
	"github.com/sidecar-voip/sidecar/rtp"
	"github.com/sidecar-voip/sidecar/sipsvc"
)

// maxHeapPerCall bounds the live heap an answered echo call holds while its dialplan waits
// (Echo), the media session included: the call, its dialog, what routing built for it.
// Measured 2026-12-06: 13.1-13.3 KB before (a Contact and a sipgo DialogUA per call, a
// context.AfterFunc on the dialog's context, three allocations and an empty profile per
// dialplan run), 12.4 KB after. The largest part left is sipgo's: the parsed INVITE, its
// server transaction and the 200 OK (~5 KB), which the transaction's Timer L (32 s) and
// the dialog's invite transaction keep reachable.
const maxHeapPerCall = 12800

func liveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestActiveCallHeap: answered calls waiting in Echo hold at most maxHeapPerCall of live
// heap each (after a GC). SIDECAR_HEAP_PROFILE=file writes the inuse heap profile of that
// state.
func TestActiveCallHeap(t *testing.T) {
	const n = 200
	if os.Getenv("SIDECAR_HEAP_PROFILE") != "" {
		runtime.MemProfileRate = 1
	}
	engine, err := rtp.NewEngine(rtp.Config{
		PortMin: 32400, PortMax: 32999, Address: netip.MustParseAddr("127.0.0.1"),
		Bind: netip.MustParseAddr("127.0.0.1"),
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer engine.Close()
	log := slog.New(lazylog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelWarn})))
	e := startEnvOpts(t, nil, func(o *sipsvc.Options) { o.Media, o.Log = engine, log })
	u := newRawUAC(t, "127.0.0.1", e.udp)
	call := func(i int) {
		offer := fmt.Sprintf("v=0\r\no=alice 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"+
			"m=audio %d RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n", 40000+2*i)
		inv := msg{method: "INVITE", ruri: "sip:echo@" + e.udp.String(), toUser: "echo", body: offer,
			headers: []string{"X-Caller-Template: sub"}}
		u.send(u.text(&inv))
		ok := u.final(5 * time.Second)
		if ok.StatusCode != 200 {
			t.Fatalf("call %d: got %d, want 200", i, ok.StatusCode)
		}
		u.send(u.ackFor(inv, ok))
	}
	waitEcho := func(want int) {
		deadline := time.Now().Add(10 * time.Second)
		for echoWaiters() < want {
			if time.Now().After(deadline) {
				t.Fatalf("%d of %d calls waiting in Echo after 10 s", echoWaiters(), want)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	// One call first, so what the first call sets up once (pools, caches) is not counted.
	call(0)
	waitEcho(1)
	before := liveHeap()
	for i := 1; i <= n; i++ {
		call(i)
	}
	waitEcho(n + 1)
	after := liveHeap()
	per := (after - min(before, after)) / n
	t.Logf("live heap per active echo call: %d B (%d KiB before the calls, %d after)", per, before>>10, after>>10)
	if f := os.Getenv("SIDECAR_HEAP_PROFILE"); f != "" {
		out, err := os.Create(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := pprof.Lookup("heap").WriteTo(out, 0); err != nil {
			t.Fatal(err)
		}
		out.Close()
	}
	if per > maxHeapPerCall {
		t.Errorf("an active echo call holds %d B of heap, want <= %d", per, maxHeapPerCall)
	}
}
