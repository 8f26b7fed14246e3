package sipsvc

import (
	"sync/atomic"
	"time"
)

// retryAfterBusy is the Retry-After (seconds) of the 503 answered past max-calls and while
// draining.
const retryAfterBusy = 5

// limiter counts the calls in progress and refuses one past max.
type limiter struct {
	max    atomic.Int64 // Server.Apply may change it while calls run
	active atomic.Int64
}

// acquire takes a call slot; false when all max slots are taken.
func (l *limiter) acquire() bool {
	for {
		n := l.active.Load()
		if n >= l.max.Load() {
			return false
		}
		if l.active.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

// release gives a slot back.
func (l *limiter) release() { l.active.Add(-1) }

// full reports whether every slot is taken.
func (l *limiter) full() bool { return l.active.Load() >= l.max.Load() }

// rateLimit lets one event through per interval and counts the ones it holds back, so a
// flood of untrusted packets cannot flood the log.
type rateLimit struct {
	last       atomic.Int64 // unix nanoseconds of the last event let through
	suppressed atomic.Int64
}

// allow reports whether an event at now may be logged, and how many were held back since
// the last one that was.
func (r *rateLimit) allow(now time.Time, every time.Duration) (bool, int64) {
	last := r.last.Load()
	if now.UnixNano()-last < int64(every) || !r.last.CompareAndSwap(last, now.UnixNano()) {
		r.suppressed.Add(1)
		return false, 0
	}
	return true, r.suppressed.Swap(0)
}
