// Package shallow keeps a long-lived goroutine's stack small: Run runs a deep but short step
// (routing a call, answering it) on another goroutine, one of a few kept for that, and waits
// for it.
//
// A goroutine's stack grows to the deepest point it ever reached and shrinks only at a
// garbage collection, and only when it uses under a quarter of it. A call's goroutine
// spends seconds to hours waiting (Echo, Playback, a timer) a few KB deep, but its setup
// (identification, profile templates, SDP, the 200 OK) goes 10-16 KB deep: run on the call's
// goroutine, that setup left every active call holding a 16 KB stack. Run on a worker
// goroutine, the deep stack serves the next call's setup as soon as the step ends.
package shallow

import (
	"fmt"
	"runtime/debug"
	"sync"
	"time"
)

// Panic is what Run panics with when f panicked: the value f panicked with and the stack of
// the goroutine it panicked on (the caller's own stack shows only Run).
type Panic struct {
	Value any
	Stack []byte
}

// Error returns the value f panicked with, formatted with %v.
func (p *Panic) Error() string { return fmt.Sprint(p.Value) }

// Unwrap returns the value f panicked with when it is an error.
func (p *Panic) Unwrap() error {
	err, _ := p.Value.(error)
	return err
}

// idleFor is the period of the idle sweep: a worker idle through a whole period exits, so an
// idle worker exits between idleFor and 2*idleFor after its last step.
const idleFor = 2 * time.Second

// task is one step handed to a worker: f, then the panic it raised (nil if none), then a
// send on done. Tasks are pooled with their channel, so a step allocates nothing of its own.
type task struct {
	f    func()
	p    *Panic
	done chan struct{} // one slot: the worker's send never waits
}

// tasks holds idle tasks.
var tasks = sync.Pool{New: func() any { return &task{done: make(chan struct{}, 1)} }}

// std is the workers Run uses.
var std = newPool(idleFor)

// Run calls f on another goroutine and returns when f has returned. When f panics, Run
// panics on the caller's goroutine with a *Panic (so the caller's recover still sees it). f
// must not call runtime.Goexit.
func Run(f func()) { std.run(f) }

// Go starts f on another goroutine as Run does, without waiting for it: the caller must
// call the Step's Wait once, later, and read what f wrote only after it. Meanwhile the
// caller may wait for something else f brings about: f's end wakes no goroutine that does
// not wait in Wait, so a caller that waits on its own event (one f makes happen, or one
// that follows f's end) is woken once, by it, not by f's end as well.
func Go(f func()) Step { return Step{std.start(f)} }

// Step is a step started by Go.
type Step struct{ t *task }

// Wait returns when the step's f has returned, and panics with a *Panic when f panicked,
// as Run does. Call it once.
func (s Step) Wait() { s.t.wait() }

// pool keeps the workers. Workers are kept across steps, so a step neither starts a
// goroutine nor grows a fresh stack to its depth again (that was ~4 us a step); there are
// never more workers than steps running at once (at most one per call in setup).
//
// An idle worker waits on its own channel alone: a step costs no timer and no select. Idle
// workers stand in a stack, the last one idle on top, and a step takes the top one, so under
// a steady load the same few workers serve and the rest sink to the bottom. One sweeper
// goroutine, running while any worker lives, retires every idleFor the workers that stayed
// idle since its previous round (a nil task tells one to exit).
type pool struct {
	period time.Duration

	mu       sync.Mutex
	idle     []*worker // the idle workers, the most recently idle last
	live     int       // workers alive, idle or running a step
	round    uint64    // sweeps done
	sweeping bool      // the sweeper runs
}

// worker is one worker goroutine's mailbox.
type worker struct {
	tasks chan *task // one slot: a step is handed over without waiting; nil: exit
	since uint64     // the pool's round when the worker last became idle
}

// newPool returns a pool whose idle workers exit after one to two periods.
func newPool(period time.Duration) *pool { return &pool{period: period} }

// run calls f on one of p's workers and waits for it (Run).
func (p *pool) run(f func()) { p.start(f).wait() }

// start hands f to one of p's workers (a new one when none is idle) and returns its task.
func (p *pool) start(f func()) *task {
	t := tasks.Get().(*task)
	t.f = f
	p.mu.Lock()
	if n := len(p.idle); n > 0 {
		w := p.idle[n-1]
		p.idle[n-1] = nil
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		w.tasks <- t
	} else {
		p.live++
		sweep := !p.sweeping
		p.sweeping = true
		p.mu.Unlock()
		go p.work(&worker{tasks: make(chan *task, 1)}, t)
		if sweep {
			go p.sweeper()
		}
	}
	return t
}

// wait waits for t's step, then puts t back in tasks and re-panics f's panic.
func (t *task) wait() {
	<-t.done
	pv := t.p
	t.f, t.p = nil, nil
	tasks.Put(t)
	if pv != nil {
		panic(pv)
	}
}

// work runs t, then the steps handed to w, until the sweeper retires it.
func (p *pool) work(w *worker, t *task) {
	for t != nil {
		p.step(w, t)
		t = <-w.tasks
	}
}

// step calls t.f, records its panic, puts w back among the idle workers and reports on
// t.done; t is the caller's again after. w is idle before t's caller resumes, so a caller
// that runs its next step at once finds it. When t.f calls runtime.Goexit (a test's
// t.FailNow in a fake), w's goroutine ends here: w is not put back, so no later step is
// handed to a worker that no longer reads its tasks.
func (p *pool) step(w *worker, t *task) {
	returned := false
	defer func() {
		r := recover()
		if r != nil {
			t.p = &Panic{Value: r, Stack: debug.Stack()}
		}
		p.mu.Lock()
		if returned || r != nil {
			w.since = p.round
			p.idle = append(p.idle, w)
		} else {
			p.live--
		}
		p.mu.Unlock()
		t.done <- struct{}{}
	}()
	t.f()
	returned = true
}

// sweeper sweeps every period until no worker is left.
func (p *pool) sweeper() {
	tick := time.NewTicker(p.period)
	defer tick.Stop()
	for range tick.C {
		if !p.sweep() {
			return
		}
	}
}

// sweep retires the workers idle since before the previous sweep and reports whether any
// worker is left; when none is, the sweeper stops (the next new worker starts another).
func (p *pool) sweep() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	old := 0 // the idle stack's bottom holds those idle longest
	for old < len(p.idle) && p.idle[old].since < p.round {
		old++
	}
	for i, w := range p.idle[:old] {
		w.tasks <- nil
		p.idle[i] = nil
	}
	p.idle = append(p.idle[:0], p.idle[old:]...)
	clear(p.idle[len(p.idle):cap(p.idle)])
	p.live -= old
	p.round++
	if p.live == 0 {
		p.sweeping = false
		return false
	}
	return true
}
