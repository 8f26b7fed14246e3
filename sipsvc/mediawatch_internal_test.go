package sipsvc

import "testing"

// sweep hands over exactly the calls whose media ended, forgets them, and stops the watcher
// (nil, not running) once no call is left.
func TestMediaWatchSweep(t *testing.T) {
	var w mediaWatch
	live, ended := &call{}, &call{}
	liveDone, endedDone := make(chan struct{}), make(chan struct{})
	w.calls = map[*call]<-chan struct{}{live: liveDone, ended: endedDone}
	w.running = true

	if got := w.sweep(nil); len(got) != 0 || got == nil {
		t.Fatalf("sweep with no media ended = %v, want an empty non-nil list", got)
	}
	close(endedDone)
	got := w.sweep(nil)
	if len(got) != 1 || got[0] != ended {
		t.Fatalf("sweep = %v, want the call whose media ended", got)
	}
	if _, ok := w.calls[ended]; ok || len(w.calls) != 1 {
		t.Fatalf("calls watched after sweep: %v", w.calls)
	}
	w.remove(live)
	if got := w.sweep(nil); got != nil || w.running {
		t.Fatalf("sweep with nothing watched = %v, running %v: want nil, stopped", got, w.running)
	}
}
