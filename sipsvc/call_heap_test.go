package sipsvc_test

import (
	"os"
	"runtime"
	"runtime/pprof"
	"testing"
)

// maxHeapPerCall bounds the live heap an answered echo call holds while its dialplan waits
// (Echo), the media session included: the call, its dialog, what routing built for it.
// Measured 2026-12-06: 13.1-13.3 KB before (a Contact and a sipgo DialogUA per call, a
// context.AfterFunc on the dialog's context, three allocations and an empty profile per
// dialplan run), 12.4 KB after; 11.45-11.47 KB once the confirmed dialog lets go of the
// 200 OK and of its INVITE transaction, which drops its own reference to the 200 when
// terminated (sipgo's DialogServerSession.Slim, PATCHED.md). The largest part left is the
// parsed INVITE (~2.2 KB), which the call keeps for the dialplan (request.Request reads
// its headers lazily, and the call's sipReq), with the dialog's shallow copy of it.
const maxHeapPerCall = 11900

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
	c := newEchoCalls(t, 32400, 32999)
	// One call first, so what the first call sets up once (pools, caches) is not counted.
	c.call(0)
	c.waitEcho(1)
	before := liveHeap()
	for i := 1; i <= n; i++ {
		c.call(i)
	}
	c.waitEcho(n + 1)
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
