package sip

import (
	"sync"
	"time"
)

// msgWorkers (sidecar patch, PATCHED.md) runs each message the transaction layer receives
// on a goroutine of its own, as upstream's `go` per message did, but reuses goroutines: a
// goroutine done with its message waits for the next one while fewer than
// msgWorkersIdle are waiting, and ends otherwise. A message finding no waiting goroutine
// gets a new one, so a handler that blocks never delays another message (upstream's
// reason for the goroutine per message). Upstream's `go` allocated the goroutine's
// closure for every message and made (and ended) a goroutine, its stack grown again by
// each handler.
//
// A goroutine left waiting for a whole msgWorkersSweep ends (one timer per layer, armed
// while any waits): after a burst the process is back to its goroutines of before within
// two periods, as it was with a goroutine per message.
type msgWorkers struct {
	mu     sync.Mutex
	idle   []*msgWorker // waiting, the last one the most recently used
	closed bool
	// minIdle is the fewest waiting since the last sweep: idle[:minIdle] waited throughout
	// (run takes from the end).
	minIdle int
	sweep   *time.Timer   // armed while any goroutine waits
	swept   bool          // sweep is armed
	period  time.Duration // msgWorkersSweep when 0 (tests set it)
}

// msgWorkersSweep is the period after which a goroutine that waited throughout it ends.
const msgWorkersSweep = time.Second

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
		p.minIdle = min(p.minIdle, n-1)
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
		if !p.swept {
			p.swept = true
			p.minIdle = len(p.idle)
			if p.sweep == nil {
				p.sweep = time.AfterFunc(p.sweepPeriod(), p.sweepIdle)
			} else {
				p.sweep.Reset(p.sweepPeriod())
			}
		}
		p.idle = append(p.idle, w)
		p.mu.Unlock()
		msg = <-w.next
		if msg == nil {
			return
		}
	}
}

func (p *msgWorkers) sweepPeriod() time.Duration {
	if p.period > 0 {
		return p.period
	}
	return msgWorkersSweep
}

// sweepIdle runs on the sweep timer: ends the goroutines that waited since the last sweep.
func (p *msgWorkers) sweepIdle() {
	p.mu.Lock()
	if p.closed || !p.swept {
		p.mu.Unlock()
		return
	}
	n := p.minIdle
	var ended []*msgWorker
	if n > 0 {
		ended = make([]*msgWorker, n)
		copy(ended, p.idle[:n])
		k := copy(p.idle, p.idle[n:])
		clear(p.idle[k:])
		p.idle = p.idle[:k]
	}
	p.minIdle = len(p.idle)
	if len(p.idle) > 0 {
		p.sweep.Reset(p.sweepPeriod())
	} else {
		p.swept = false
	}
	p.mu.Unlock()
	for _, w := range ended {
		w.next <- nil
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
	if p.sweep != nil {
		p.sweep.Stop()
	}
	p.mu.Unlock()
	for _, w := range idle {
		w.next <- nil
	}
}
