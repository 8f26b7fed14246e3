// Package shallow keeps a long-lived goroutine's stack small: Run runs a deep but short step
// (routing a call, answering it) on a goroutine of its own and waits for it.
//
// A goroutine's stack grows to the deepest point it ever reached and shrinks only at a
// garbage collection, and only when it uses under a quarter of it. A call's goroutine
// spends seconds to hours waiting (Echo, Playback, a timer) a few KB deep, but its setup
// (identification, profile templates, SDP, the 200 OK) goes 10-16 KB deep: run on the call's
// goroutine, that setup left every active call holding a 16 KB stack. Run on a short-lived
// goroutine, its stack returns to the runtime's stack cache for the next call's setup
// as soon as the step ends.
package shallow

import (
	"fmt"
	"runtime/debug"
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

// Run calls f on a new goroutine and returns when f has returned. When f panics, Run panics
// on the caller's goroutine with a *Panic (so the caller's recover still sees it). f must not
// call runtime.Goexit.
func Run(f func()) {
	var p *Panic
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer func() {
			if r := recover(); r != nil {
				p = &Panic{Value: r, Stack: debug.Stack()}
			}
		}()
		f()
	}()
	<-done
	if p != nil {
		panic(p)
	}
}
