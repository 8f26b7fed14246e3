package sip

import (
	"sync"
	"time"
)

// msgWorkers (sidecar patch, PATCHED.md) runs the transaction layer's handling of each
// received message on a goroutine kept for that, instead of a new goroutine per message.
//
// Upstream started one goroutine per message (handleMessage: "go handleRequestBackground"),
// and each started with the runtime's average stack size and grew it (runtime.newstack,
// copystack) when the request handler went deeper: a few percent of a server's CPU at
// thousands of calls per second. A worker keeps its grown stack from one message to the
// next (until a garbage collection shrinks it).
//
// There is no queue: a message goes to a worker waiting for one (an unbuffered send), and
// when none waits, a new worker starts with it, so a handler that blocks (one waiting for
// another message, as upstream allows) never delays the next message, and there are never
// more workers than messages being handled at once, as there were goroutines upstream. A
// worker idle for msgWorkerIdle exits; all idle ones exit when the layer closes.
type msgWorkers struct {
	work     chan Message // unbuffered: a send succeeds only when a worker waits
	handle   func(Message)
	done     chan struct{}
	doneOnce sync.Once
}

// msgWorkerIdle is how long a worker waits for its next message before it exits.
const msgWorkerIdle = 2 * time.Second

func newMsgWorkers(handle func(Message)) *msgWorkers {
	return &msgWorkers{work: make(chan Message), handle: handle, done: make(chan struct{})}
}

// run hands m to an idle worker, or starts one with it.
func (w *msgWorkers) run(m Message) {
	select {
	case w.work <- m:
	default:
		go w.worker(m)
	}
}

// worker handles m, then the messages handed to it, until it was idle for msgWorkerIdle or
// the layer closed.
func (w *msgWorkers) worker(m Message) {
	idle := time.NewTimer(msgWorkerIdle)
	defer idle.Stop()
	for {
		w.handle(m)
		idle.Reset(msgWorkerIdle)
		select {
		case m = <-w.work:
		case <-idle.C:
			return
		case <-w.done:
			return
		}
	}
}

// close makes the idle workers exit; a message handed over after it still gets a worker.
func (w *msgWorkers) close() {
	w.doneOnce.Do(func() { close(w.done) })
}
