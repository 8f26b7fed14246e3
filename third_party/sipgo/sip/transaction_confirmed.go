package sip

import (
	"sync"
	"time"
)

// confirmedKeys (sidecar patch, PATCHED.md) holds the keys of INVITE server transactions
// Confirmed by the ACK of their non-2xx final until their Timer I would have fired. A
// Confirmed transaction only absorbs retransmitted ACKs and INVITEs (RFC 3261 17.2.1),
// which needs its key alone: the transaction layer deletes the transaction on the ACK and
// keeps the key here instead of the transaction with its INVITE for T4 (5 s on UDP).
//
// Keys expire in the order they were added (one Timer I for all, unless Timer_I is changed
// meanwhile: a later deadline at the front only delays the removal of the keys behind it,
// never lengthens their life, as has checks the deadline itself). One timer, armed while
// keys are held, removes the expired ones.
type confirmedKeys struct {
	mu    sync.Mutex
	start time.Time        // deadlines are monotonic nanoseconds since start
	m     map[string]int64 // key -> deadline
	q     []confirmedKey   // in the order added, the expired ones removed from the front
	timer *time.Timer      // armed while q is not empty
}

type confirmedKey struct {
	key      string
	deadline int64
}

func newConfirmedKeys() *confirmedKeys {
	return &confirmedKeys{start: time.Now(), m: make(map[string]int64)}
}

func (c *confirmedKeys) now() int64 {
	return int64(time.Since(c.start))
}

// add holds key for ttl.
func (c *confirmedKeys) add(key string, ttl time.Duration) {
	c.mu.Lock()
	c.addLocked(c.now(), key, ttl)
	c.mu.Unlock()
}

func (c *confirmedKeys) addLocked(now int64, key string, ttl time.Duration) {
	c.expireLocked(now)
	deadline := now + int64(ttl)
	c.m[key] = deadline
	c.q = append(c.q, confirmedKey{key: key, deadline: deadline})
	if c.timer == nil {
		c.timer = time.AfterFunc(ttl, c.expire)
	}
}

// has reports whether key is held and not expired.
func (c *confirmedKeys) has(key string) bool {
	c.mu.Lock()
	ok := c.hasLocked(c.now(), key)
	c.mu.Unlock()
	return ok
}

func (c *confirmedKeys) hasLocked(now int64, key string) bool {
	deadline, ok := c.m[key]
	if ok && deadline <= now {
		delete(c.m, key)
		ok = false
	}
	return ok
}

// len returns the number of keys held, expired ones not yet removed included.
func (c *confirmedKeys) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}

// expire runs on the timer: removes the expired keys and arms the timer for the next one.
func (c *confirmedKeys) expire() {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	c.expireLocked(now)
	if len(c.q) == 0 {
		c.timer = nil
		return
	}
	c.timer.Reset(time.Duration(c.q[0].deadline - now))
}

func (c *confirmedKeys) expireLocked(now int64) {
	n := 0
	for n < len(c.q) && c.q[n].deadline <= now {
		e := c.q[n]
		if d, ok := c.m[e.key]; ok && d == e.deadline {
			delete(c.m, e.key)
		}
		c.q[n] = confirmedKey{} // the array keeps no key it no longer holds
		n++
	}
	if n == 0 {
		return
	}
	c.q = c.q[n:]
	if len(c.q) == 0 {
		// Every key held has an entry in q: the set is empty. A fresh map and array
		// (a map does not shrink) give back the memory of a burst.
		c.q = nil
		c.m = make(map[string]int64)
	}
}

// close forgets every key and stops the timer (the transaction layer closes).
func (c *confirmedKeys) close() {
	c.mu.Lock()
	if c.timer != nil {
		c.timer.Stop()
		c.timer = nil
	}
	c.q = nil
	c.m = make(map[string]int64)
	c.mu.Unlock()
}
