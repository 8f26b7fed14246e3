package sip

import (
	"sync"
	"time"
)

// serverTxTimers (sidecar patch, PATCHED.md) runs the Timer L (RFC 6026, INVITE 2xx) and
// Timer J (RFC 3261 17.2.2, non-INVITE final) of a transaction layer's server transactions
// on one runtime timer, instead of a time.AfterFunc (a timer and its closure) per
// transaction. A TU that ends its transactions itself (sidecar terminates the INVITE's on
// the ACK and the BYE's once answered) stopped each of those timers microseconds after
// arming it.
//
// An armed timer is a slot holding the transaction and a heap entry holding the slot's
// index, its generation and the deadline; stopping it clears the slot at once (the
// transaction is no longer reachable from here) and leaves the entry, without pointers,
// to be dropped at its deadline or by a compaction. Deadlines are kept exact and the one
// runtime timer is armed for the next tick (timerTick) at or after the earliest one, so a
// timer fires at most timerTick late and the layer wakes up at most once per tick.
type serverTxTimers struct {
	mu    sync.Mutex
	start time.Time // deadlines are monotonic nanoseconds since start
	slots []txTimerSlot
	free  []int32       // indexes of free slots
	heap  []txTimerItem // min-heap by deadline
	live  int           // armed slots
	timer *time.Timer   // made on first use
	at    int64         // the deadline the runtime timer is armed for, 0 when idle
	// closed: the layer is closed, nothing is armed any more.
	closed bool
}

type txTimerSlot struct {
	tx  *ServerTx
	gen uint32
	in  fsmInput
}

type txTimerItem struct {
	deadline int64
	slot     int32
	gen      uint32
}

// timerTick is the resolution of serverTxTimers: the runtime timer is armed on multiples
// of it (Timer L and Timer J are 64*T1 = 32 s on UDP; 0 on reliable transports for J).
const timerTick = int64(4 * time.Millisecond)

// txTimerShrink: at or above this many slots the arrays are dropped once nothing is
// armed, giving back the memory of a burst; below it they are kept for reuse.
const txTimerShrink = 1024

func newServerTxTimers() *serverTxTimers {
	return &serverTxTimers{start: time.Now()}
}

func (w *serverTxTimers) now() int64 {
	return int64(time.Since(w.start))
}

// arm makes tx's FSM get in after d, and returns the slot to stop it with (stop), or -1
// when the layer is closed.
func (w *serverTxTimers) arm(tx *ServerTx, d time.Duration, in fsmInput) int32 {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return -1
	}
	var slot int32
	if n := len(w.free); n > 0 {
		slot = w.free[n-1]
		w.free = w.free[:n-1]
	} else {
		w.slots = append(w.slots, txTimerSlot{})
		slot = int32(len(w.slots) - 1)
	}
	s := &w.slots[slot]
	s.tx, s.in = tx, in
	w.live++

	now := w.now()
	deadline := now + int64(max(d, 0))
	w.push(txTimerItem{deadline: deadline, slot: slot, gen: s.gen})
	if w.at == 0 || deadline < w.at {
		w.armAt(now, deadline)
	}
	return slot
}

// armAt arms the runtime timer for the first tick at or after deadline. Under mu.
func (w *serverTxTimers) armAt(now, deadline int64) {
	at := (deadline + timerTick - 1) / timerTick * timerTick
	if w.at != 0 && w.at <= at {
		return
	}
	w.at = at
	d := time.Duration(at - now)
	if w.timer == nil {
		w.timer = time.AfterFunc(d, w.fire)
		return
	}
	w.timer.Reset(d)
}

// stop stops the timer of tx in slot (from arm); a no-op when it fired or was stopped
// already (the slot then holds no timer of tx).
func (w *serverTxTimers) stop(tx *ServerTx, slot int32) {
	if slot < 0 {
		return
	}
	w.mu.Lock()
	if int(slot) < len(w.slots) && w.slots[slot].tx == tx {
		w.release(slot)
		w.compact()
	}
	w.mu.Unlock()
}

// release frees slot: its heap entry no longer matches its generation. Under mu.
func (w *serverTxTimers) release(slot int32) {
	s := &w.slots[slot]
	s.tx = nil
	s.gen++
	w.free = append(w.free, slot)
	w.live--
}

// compact drops the heap entries of stopped timers once they are most of it. Under mu.
func (w *serverTxTimers) compact() {
	if w.live == 0 && len(w.slots) >= txTimerShrink {
		w.slots, w.free, w.heap = nil, nil, nil
		return
	}
	if len(w.heap) < 64 || len(w.heap) < 4*w.live {
		return
	}
	n := 0
	for _, it := range w.heap {
		if w.slots[it.slot].gen == it.gen && w.slots[it.slot].tx != nil {
			w.heap[n] = it
			n++
		}
	}
	clear(w.heap[n:])
	w.heap = w.heap[:n]
	for i := n/2 - 1; i >= 0; i-- {
		w.down(i)
	}
}

// fire runs on the runtime timer: the FSM of each transaction whose deadline passed gets
// its timer input, outside the lock, in deadline order; a transaction whose FSM lock is
// held gets it on a goroutine of its own, so one blocked transaction delays no other.
func (w *serverTxTimers) fire() {
	var batch [32]struct {
		tx *ServerTx
		in fsmInput
	}
	for {
		w.mu.Lock()
		w.at = 0
		now := w.now()
		n := 0
		for len(w.heap) > 0 && w.heap[0].deadline <= now && n < len(batch) {
			it := w.pop()
			s := &w.slots[it.slot]
			if s.gen != it.gen || s.tx == nil {
				continue // stopped
			}
			batch[n].tx, batch[n].in = s.tx, s.in
			n++
			w.release(it.slot)
		}
		more := n == len(batch)
		if !more {
			if len(w.heap) > 0 && !w.closed {
				w.armAt(now, w.heap[0].deadline)
			}
			w.compact()
		}
		w.mu.Unlock()

		for i := range batch[:n] {
			tx, in := batch[i].tx, batch[i].in
			batch[i].tx = nil
			if tx.fsmMu.TryLock() {
				tx.spinFsmUnsafe(in)
				tx.fsmMu.Unlock()
				continue
			}
			// Its FSM is busy, perhaps writing to a stalled TCP peer while holding fsmMu:
			// the input waits on a goroutine of its own, not every other transaction's
			// timer behind it.
			go tx.spinFsm(in)
		}
		if !more {
			return
		}
	}
}

// close stops the runtime timer and forgets every armed timer (the layer closes; its
// transactions are terminated).
func (w *serverTxTimers) close() {
	w.mu.Lock()
	w.closed = true
	if w.timer != nil {
		w.timer.Stop()
	}
	w.at = 0
	w.slots, w.free, w.heap = nil, nil, nil
	w.live = 0
	w.mu.Unlock()
}

// armed returns the number of armed timers.
func (w *serverTxTimers) armed() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.live
}

func (w *serverTxTimers) push(it txTimerItem) {
	w.heap = append(w.heap, it)
	i := len(w.heap) - 1
	for i > 0 {
		p := (i - 1) / 2
		if w.heap[p].deadline <= it.deadline {
			break
		}
		w.heap[i] = w.heap[p]
		i = p
	}
	w.heap[i] = it
}

func (w *serverTxTimers) pop() txTimerItem {
	top := w.heap[0]
	last := len(w.heap) - 1
	w.heap[0] = w.heap[last]
	w.heap = w.heap[:last]
	if last > 0 {
		w.down(0)
	}
	return top
}

func (w *serverTxTimers) down(i int) {
	h := w.heap
	it := h[i]
	for {
		c := 2*i + 1
		if c >= len(h) {
			break
		}
		if r := c + 1; r < len(h) && h[r].deadline < h[c].deadline {
			c = r
		}
		if it.deadline <= h[c].deadline {
			break
		}
		h[i] = h[c]
		i = c
	}
	h[i] = it
}
