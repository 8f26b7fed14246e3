package sipsvc_test

import (
	"log/slog"
	"runtime"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/sidecar-voip/sidecar/sipsvc"
)

// What a rejected call keeps after its final answer: sipgo absorbs the retransmissions of
// the INVITE until Timer I (T4 after the ACK of the 486, 5 s on UDP), made a minute here
// so every rejected call of the test is still held when measured. Before the patched sipgo
// (third_party/sipgo/PATCHED.md) the ACK, which the service never reads from the
// transaction, held a goroutine per rejected call until then, and the transaction with
// its parsed INVITE stayed: ~7 KB per rejected call, 55,000 of them (RSS 950 MB) under
// the 3x flood (TestOverloadQueueDelayFlood). Now the layer holds its key alone.
func TestRejectedCallsLingerWithoutGoroutines(t *testing.T) {
	const calls = 300
	restore := sip.Timer_I
	sip.Timer_I = time.Minute
	t.Cleanup(func() { sip.Timer_I = restore })

	// The service's log discarded: the test's log buffer would grow by every call's lines.
	e := startEnvOpts(t, nil, func(o *sipsvc.Options) { o.Log = slog.New(slog.DiscardHandler) })
	u := newRawUAC(t, "127.0.0.1", e.udp)
	reject := func() {
		inv := msg{method: "INVITE", ruri: "sip:busy@" + e.udp.String(), toUser: "busy", body: offerSDP,
			headers: []string{"X-Caller-Template: sub"}}
		u.send(u.text(&inv))
		for {
			res := u.final(time.Second)
			if res.CallID() == nil || res.CallID().Value() != inv.callID {
				continue // a retransmission for an earlier call
			}
			if res.StatusCode != sip.StatusBusyHere {
				t.Fatalf("INVITE to busy: got %d, want 486", res.StatusCode)
			}
			u.send(u.ackNon2xx(inv, res))
			return
		}
	}
	for range 10 { // warm-up: the first calls' pools, templates, heap
		reject()
	}
	waitFor(t, 5*time.Second, "warm-up calls ended", func() bool { return e.srv.Stats().CallsActive == 0 })
	baseG, baseMem := liveMemory()
	for range calls {
		reject()
	}
	waitFor(t, 5*time.Second, "rejected calls ended", func() bool { return e.srv.Stats().CallsActive == 0 })
	bound := baseG + calls/10
	var g int
	deadline := time.Now().Add(10 * time.Second)
	for g = runtime.NumGoroutine(); g > bound && time.Now().Before(deadline); g = runtime.NumGoroutine() {
		time.Sleep(20 * time.Millisecond) // the ACKs are handled on goroutines of sipgo's own
	}
	// Each call's INVITE also waits tryingAfter (200 ms) in the 100 Trying queue, answered
	// or not: measured once that is empty, what is left is what Timer I holds.
	waitFor(t, 5*time.Second, "the 100 Trying queue empty", func() bool { return sipsvc.TryingWaiting(e.srv) == 0 })
	_, mem := liveMemory()
	perCall := (int64(mem) - int64(baseMem)) / calls
	t.Logf("%d rejected calls, their INVITE transactions in Timer I: goroutines %d -> %d, live heap and stacks %+d bytes per call",
		calls, baseG, g, perCall)
	if g > bound {
		t.Fatalf("%d goroutines after %d rejected calls (baseline %d): a goroutine per rejected call until Timer I", g, calls, baseG)
	}
	if perCall > maxHeldPerRejectedCall {
		t.Fatalf("%d bytes live per rejected call until Timer I, want <= %d: the INVITE transaction (and its INVITE) kept, not its key",
			perCall, maxHeldPerRejectedCall)
	}
}

// maxHeldPerRejectedCall bounds the live heap a rejected and ACKed call leaves until Timer
// I: its transaction key in sipgo's set (~150 B), with room for the test's noise.
const maxHeldPerRejectedCall = 1024

// liveMemory returns the goroutines and the live heap plus goroutine stacks after a GC.
func liveMemory() (goroutines int, bytes uint64) {
	var m runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m)
	return runtime.NumGoroutine(), m.HeapAlloc + m.StackInuse
}
