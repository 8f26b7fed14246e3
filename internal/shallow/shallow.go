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

// idleFor is how long a worker waits for its next step before it exits.
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

// work hands a step to an idle worker (unbuffered: a send succeeds only when one waits).
// Workers are kept across steps, so a step neither starts a goroutine nor grows a fresh
// stack to its depth again (that was ~4 us a step); there are never more workers than
// steps running at once (at most one per call in setup), and an idle one exits after idleFor.
var work = make(chan *task)

// Run calls f on another goroutine and returns when f has returned. When f panics, Run
// panics on the caller's goroutine with a *Panic (so the caller's recover still sees it). f
// must not call runtime.Goexit.
func Run(f func()) {
	t := tasks.Get().(*task)
	t.f = f
	select {
	case work <- t:
	default:
		go worker(t)
	}
	<-t.done
	p := t.p
	t.f, t.p = nil, nil
	tasks.Put(t)
	if p != nil {
		panic(p)
	}
}

// run calls t.f, records its panic, and reports on t.done; t is the caller's again after.
func (t *task) run() {
	defer func() {
		if r := recover(); r != nil {
			t.p = &Panic{Value: r, Stack: debug.Stack()}
		}
		t.done <- struct{}{}
	}()
	t.f()
}

// worker runs t, then the steps handed to it, until it has been idle for idleFor.
func worker(t *task) {
	idle := time.NewTimer(idleFor)
	defer idle.Stop()
	for {
		t.run()
		idle.Reset(idleFor)
		select {
		case t = <-work:
		case <-idle.C:
			return
		}
	}
}
