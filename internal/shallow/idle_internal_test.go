package shallow

import (
	"runtime"
	"testing"
	"time"
)

// counts returns p's live and idle workers.
func (p *pool) counts() (live, idle int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.live, len(p.idle)
}

// TestWorkerInUseStays: a worker that runs a step between every two sweeps never exits,
// and serves every step alone. The pool's own sweeper never ticks (an hour's period); the
// test sweeps.
func TestWorkerInUseStays(t *testing.T) {
	p := newPool(time.Hour)
	for i := range 10 {
		p.run(func() {})
		if live, idle := p.counts(); live != 1 || idle != 1 {
			t.Fatalf("after step %d: %d workers, %d idle; want 1, 1", i, live, idle)
		}
		if !p.sweep() {
			t.Fatalf("sweep %d: no worker left, want the one in use", i)
		}
	}
	if live, _ := p.counts(); live != 1 {
		t.Fatalf("%d workers after 10 rounds in use, want 1", live)
	}
}

// TestIdleWorkerExits: a worker idle through a whole round between two sweeps exits at
// the second (it is told to, and its goroutine returns), and the pool then has none.
func TestIdleWorkerExits(t *testing.T) {
	p := newPool(time.Hour)
	p.run(func() {})
	before := runtime.NumGoroutine()
	if !p.sweep() {
		t.Fatal("first sweep: worker gone after less than a round idle")
	}
	if live, idle := p.counts(); live != 1 || idle != 1 {
		t.Fatalf("after the first sweep: %d workers, %d idle; want 1, 1", live, idle)
	}
	if p.sweep() {
		t.Fatal("second sweep: a worker is left, want none")
	}
	if live, idle := p.counts(); live != 0 || idle != 0 {
		t.Fatalf("after the second sweep: %d workers, %d idle; want 0, 0", live, idle)
	}
	for end := time.Now().Add(10 * time.Second); runtime.NumGoroutine() >= before; { // the worker's goroutine returns
		if time.Now().After(end) {
			t.Fatal("the retired worker's goroutine did not return")
		}
		runtime.Gosched()
	}
}

// TestOnlyIdleWorkersExit: of two workers, the one that kept running steps stays and the
// one left idle exits; the next step starts no new worker.
func TestOnlyIdleWorkersExit(t *testing.T) {
	p := newPool(time.Hour)
	inside := make(chan struct{})
	release := make(chan struct{})
	go p.run(func() { inside <- struct{}{}; <-release }) // holds one worker
	<-inside
	p.run(func() {}) // a second worker: the first is busy
	close(release)
	for {
		if _, idle := p.counts(); idle == 2 {
			break
		}
		time.Sleep(time.Millisecond) // wait for the first step to finish (an event, not a time)
	}
	p.sweep()
	p.run(func() {}) // takes the last one idle, leaves the other
	p.sweep()
	if live, idle := p.counts(); live != 1 || idle != 1 {
		t.Fatalf("after two sweeps: %d workers, %d idle; want 1, 1 (the one in use)", live, idle)
	}
}

// TestGoexitWorkerNotReused: a step that ends its worker's goroutine (runtime.Goexit, as a
// test's t.FailNow in a fake does) leaves no idle worker behind: the pool counts it gone,
// and the next step gets a new worker instead of waiting forever on the dead one.
func TestGoexitWorkerNotReused(t *testing.T) {
	p := newPool(time.Hour)
	p.run(func() { runtime.Goexit() })
	if live, idle := p.counts(); live != 0 || idle != 0 {
		t.Fatalf("after a step that called Goexit: %d workers, %d idle; want 0, 0", live, idle)
	}
	ran := make(chan struct{})
	go func() {
		p.run(func() {})
		close(ran)
	}()
	select {
	case <-ran:
	case <-time.After(10 * time.Second): // a hang, not a speed bound
		t.Fatal("the step after a Goexit never ran: it was handed to the dead worker")
	}
	if live, idle := p.counts(); live != 1 || idle != 1 {
		t.Fatalf("after the next step: %d workers, %d idle; want 1, 1", live, idle)
	}
}
