package sipsvc

import (
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"
)

// 100 Trying only when needed (RFC 3261 17.2.1: the INVITE server transaction MUST send a
// 100 "unless it knows that the TU will generate a provisional or final response within
// 200 ms"). A call answered or refused at once (echo, busy: about a millisecond) sends no
// 100: one response built and one datagram sent less per call. A call whose first response
// takes longer (a slow application before Answer, a store lookup, a node behind) gets its
// 100 tryingAfter past the INVITE's arrival, before the caller's first retransmission
// (T1, 500 ms): Kamailio's tm stops retransmitting at it.
//
// No timer per INVITE: each call's transaction (tryingTx, which sees every response the
// call sends) waits in one FIFO (tryingQueue) that one shared timer sweeps, taking every
// entry due within the next tryingTick at once. A retransmitted INVITE gets the transaction's
// last response from sipgo (the 100 once sent). sipgo's own 200 ms Timer_1xx (a timer per
// transaction) is off (sip.WithTransactionLayerNoTimer1xx, server.go): every INVITE path
// answers at once or goes through this queue.

// tryingAfter is how long past the INVITE's arrival the 100 waits for another response.
const tryingAfter = 200 * time.Millisecond

// tryingTick is the sweep's granularity: an entry due within it goes out with the batch.
const tryingTick = 10 * time.Millisecond

// tryingLead: entries are due tryingLead before tryingAfter, so the batching (an entry sent
// up to tryingTick early or late) and the timer's own lateness keep the 100 inside 200 ms.
const tryingLead = 2 * tryingTick

// tryingMax bounds the queue (entries stay until due even when answered: about the call
// rate times 200 ms). Full, the handler sends its 100 at once, as before.
const tryingMax = 1 << 16

// tryingTx is an INVITE server transaction that notes whether the call sent any response.
// The sweep and Respond take mu, so a 100 never goes out after another response.
type tryingTx struct {
	sip.ServerTransaction
	req *sip.Request
	due time.Time
	s   *Server // sends the 100

	mu       sync.Mutex
	answered bool
}

// Respond sends res; after it, the sweep sends no 100.
func (t *tryingTx) Respond(res *sip.Response) error {
	t.done()
	return t.ServerTransaction.Respond(res)
}

// Connection is the transaction's connection (contactFor reads the local address from it),
// nil when the transaction has none to give.
func (t *tryingTx) Connection() sip.Connection {
	if co, ok := t.ServerTransaction.(interface{ Connection() sip.Connection }); ok {
		return co.Connection()
	}
	return nil
}

// done marks the call over: no 100 after it (sipgo answered a CANCEL, or the call ended).
func (t *tryingTx) done() {
	t.mu.Lock()
	t.answered = true
	t.mu.Unlock()
}

// trying sends the 100 unless a response went out first; it reports whether it sent it.
func (t *tryingTx) trying() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.answered {
		return false
	}
	t.answered = true
	// A transport error ends the transaction: the call sees it.
	t.s.respond(t.req, t.ServerTransaction, sip.StatusTrying, "")
	return true
}

// tryingQueue holds the calls waiting for their 100, in the order their handlers started
// (about their arrival order), with one timer armed at the head's due time while any wait.
type tryingQueue struct {
	mu    sync.Mutex
	q     []*tryingTx // q[head:] wait
	head  int
	timer *time.Timer
	armed bool
}

// add queues t, due at t.due; false when the queue is full or t is already due (the caller
// sends the 100 at once).
func (q *tryingQueue) add(t *tryingTx, now time.Time) bool {
	if t.due.Sub(now) < tryingTick {
		return false
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.q)-q.head >= tryingMax {
		return false
	}
	if q.head > 0 && q.head >= len(q.q)/2 {
		// Compact: the swept prefix is nil; the slice stays about twice the waiting count.
		n := copy(q.q, q.q[q.head:])
		clear(q.q[n:])
		q.q, q.head = q.q[:n], 0
	}
	q.q = append(q.q, t)
	if !q.armed {
		q.armLocked(now)
	}
	return true
}

// armLocked sets the timer to the head's due time. q.mu is held; the queue is not empty.
func (q *tryingQueue) armLocked(now time.Time) {
	d := max(q.q[q.head].due.Sub(now), 0)
	if q.timer == nil {
		q.timer = time.AfterFunc(d, q.sweep)
	} else {
		q.timer.Reset(d)
	}
	q.armed = true
}

// sweep sends the 100 of every entry due within tryingTick (unless answered) and re-arms the
// timer for the next one.
func (q *tryingQueue) sweep() {
	now := time.Now()
	limit := now.Add(tryingTick)
	q.mu.Lock()
	end := q.head
	for end < len(q.q) && !q.q[end].due.After(limit) {
		end++
	}
	due := append([]*tryingTx(nil), q.q[q.head:end]...)
	clear(q.q[q.head:end])
	q.head = end
	q.armed = false
	if q.head < len(q.q) {
		q.armLocked(now)
	}
	q.mu.Unlock()
	for _, t := range due {
		t.trying()
	}
}
