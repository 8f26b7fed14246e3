package sip

import "sync"

// msgWorkers (sidecar patch, PATCHED.md) runs each message the transaction layer receives
// on a goroutine of its own, as upstream's `go` per message did, but reuses goroutines: a
// goroutine done with its message waits for the next one while fewer than
// msgWorkersIdle are waiting, and ends otherwise. A message finding no waiting goroutine
// gets a new one, so a handler that blocks never delays another message (upstream's
// reason for the goroutine per message). Upstream's `go` allocated the goroutine's
// closure for every message and made (and ended) a goroutine, its stack grown again by
// each handler.
type msgWorkers struct {
	mu     sync.Mutex
	idle   []*msgWorker // waiting, the last one the most recently used
	closed bool
}

type msgWorker struct {
	next chan Message // one slot: the next message, nil to end
}

// msgWorkersIdle bounds the goroutines waiting for a message per layer.
const msgWorkersIdle = 8

// run handles msg on a waiting goroutine, or a new one.
func (p *msgWorkers) run(txl *TransactionLayer, msg Message) {
	p.mu.Lock()
	if n := len(p.idle); n > 0 {
		w := p.idle[n-1]
		p.idle[n-1] = nil
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		w.next <- msg // never blocks: the slot is empty while the worker waits
		return
	}
	p.mu.Unlock()
	go p.work(txl, msg)
}

func (p *msgWorkers) work(txl *TransactionLayer, msg Message) {
	var w *msgWorker
	for {
		txl.handleMessageNow(msg)
		if w == nil {
			w = &msgWorker{next: make(chan Message, 1)}
		}
		p.mu.Lock()
		if p.closed || len(p.idle) >= msgWorkersIdle {
			p.mu.Unlock()
			return
		}
		p.idle = append(p.idle, w)
		p.mu.Unlock()
		msg = <-w.next
		if msg == nil {
			return
		}
	}
}

// waiting returns the number of goroutines waiting for a message.
func (p *msgWorkers) waiting() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.idle)
}

// close ends the waiting goroutines; later messages get a goroutine each, which ends
// with its message.
func (p *msgWorkers) close() {
	p.mu.Lock()
	p.closed = true
	idle := p.idle
	p.idle = nil
	p.mu.Unlock()
	for _, w := range idle {
		w.next <- nil
	}
}
