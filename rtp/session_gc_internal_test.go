package rtp

import (
	"context"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sidecar-voip/sidecar/media"
)

// openTicked opens n sessions that have each been ticked by the engine's clock and then
// closed, with a cleanup counting each one the garbage collector frees. It keeps no
// reference to them.
func openTicked(t *testing.T, e *Engine, n int, freed *atomic.Int32) {
	t.Helper()
	offer := []byte("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 9 RTP/AVP 0\r\n")
	list := make([]*Session, 0, n)
	for range n {
		ms, err := e.Open(context.Background(), media.Params{CallID: "gc", Offer: offer})
		if err != nil {
			t.Fatal(err)
		}
		s := ms.(*Session)
		runtime.AddCleanup(s, func(*atomic.Int32) { freed.Add(1) }, freed)
		list = append(list, s)
	}
	for _, s := range list { // the clock has taken each in its snapshot of sessions
		for ticked := false; !ticked; {
			s.mu.Lock()
			ticked = s.nextRTCP != 0
			s.mu.Unlock()
			if !ticked {
				time.Sleep(time.Millisecond)
			}
		}
	}
	for _, s := range list {
		s.Close()
	}
}

// TestClosedSessionsAreFreed: once closed, a session is garbage. Nothing of the engine (the
// clock's snapshot of its subscribers, the pool's pairs, the reactor) keeps a reference: a
// heap profile once found every session of a load run still live after the calls had ended.
func TestClosedSessionsAreFreed(t *testing.T) {
	const n = 20
	cfg := DefaultConfig()
	cfg.PortMin, cfg.PortMax = 41000, 41199
	e, err := NewEngine(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	var freed atomic.Int32
	openTicked(t, e, n, &freed)
	// Cleanups run after a collection, on their own goroutine: give them a few rounds.
	for i := 0; i < 100 && freed.Load() < n; i++ {
		runtime.GC()
		time.Sleep(5 * time.Millisecond)
	}
	if got := freed.Load(); got != n {
		t.Errorf("%d of %d closed sessions freed: something keeps a reference", got, n)
	}
	if e.Active() != 0 {
		t.Errorf("%d sessions still active", e.Active())
	}
}
