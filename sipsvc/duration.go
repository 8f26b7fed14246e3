package sipsvc

import (
	"errors"
	"sync"
	"time"
)

// maxCallDuration bounds every call, from its INVITE to its end: a call still up after it
// (a stuck dialplan, a caller whose BYE was lost while media keeps flowing) is ended: BYE
// when answered, 500 when not. docs/sip-service.md documents it; it is a constant, not a
// setting.
const maxCallDuration = 4 * time.Hour

// ErrMaxDuration is the cause of a call's context when it reached the maximum call duration.
var ErrMaxDuration = errors.New("call reached its maximum duration")

// durationLimits ends the calls that reach their maximum duration, with one timer for all
// of them instead of a timer (and its closure) per call: the live calls are kept in a list
// by deadline, earliest first (linked through the calls themselves: nothing allocated per
// call), and the timer is armed for the first deadline, or an earlier one. A call that ends
// leaves the list without touching the timer (unless it was the last one); when the timer
// fires it ends the calls past their deadline and arms itself for the new first one. All
// calls get the same limit, so a call joins at the end of the list. The zero value is
// ready to use.
type durationLimits struct {
	mu         sync.Mutex
	head, tail *call
	timer      *time.Timer // made on the first call; armed while the list is not empty
	armedFor   time.Time   // the deadline the timer is armed for, never after head's
}

// durationLink is a call's place in durationLimits' list.
type durationLink struct {
	prev, next *call
	deadline   time.Time
	limit      time.Duration // the limit the deadline came from, for the log
	in         bool          // in the list: neither stopped nor fired
}

// limitDuration ends the call with ErrMaxDuration once d has passed, unless stopDuration
// is called first.
func (c *call) limitDuration(d time.Duration) {
	c.dur.limit = d
	c.s.durations.add(c, time.Now().Add(d))
}

// stopDuration disarms the call's maximum duration; it reports whether it had not fired.
func (c *call) stopDuration() bool { return c.s.durations.remove(c) }

// add puts c in the list, to be ended at deadline.
func (w *durationLimits) add(c *call, deadline time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	l := &c.dur
	l.deadline, l.in = deadline, true
	// From the end: all calls have the same limit, so c goes last unless the limit was
	// shortened (tests do).
	after := w.tail
	for after != nil && after.dur.deadline.After(deadline) {
		after = after.dur.prev
	}
	l.prev = after
	if after == nil {
		l.next, w.head = w.head, c
	} else {
		l.next, after.dur.next = after.dur.next, c
	}
	if l.next == nil {
		w.tail = c
	} else {
		l.next.dur.prev = c
	}
	if w.head == c && (w.armedFor.IsZero() || deadline.Before(w.armedFor)) {
		w.armLocked(deadline)
	}
}

// armLocked arms the timer for deadline. Call with mu held.
func (w *durationLimits) armLocked(deadline time.Time) {
	w.armedFor = deadline
	if w.timer == nil {
		w.timer = time.AfterFunc(time.Until(deadline), w.fire)
		return
	}
	w.timer.Reset(time.Until(deadline))
}

// unlinkLocked takes c out of the list. Call with mu held and c in it.
func (w *durationLimits) unlinkLocked(c *call) {
	l := &c.dur
	if l.prev == nil {
		w.head = l.next
	} else {
		l.prev.dur.next = l.next
	}
	if l.next == nil {
		w.tail = l.prev
	} else {
		l.next.dur.prev = l.prev
	}
	l.prev, l.next, l.in = nil, nil, false
}

// remove takes c out of the list; it reports whether c was in it (its limit had not fired).
func (w *durationLimits) remove(c *call) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !c.dur.in {
		return false
	}
	w.unlinkLocked(c)
	if w.head == nil {
		// No call left: nothing keeps the timer (and the server) armed for hours.
		w.timer.Stop()
		w.armedFor = time.Time{}
	}
	return true
}

// fire is the timer's function: it ends the calls past their deadline and arms the timer
// for the next one.
func (w *durationLimits) fire() {
	var due []*call
	w.mu.Lock()
	now := time.Now()
	for c := w.head; c != nil && !c.dur.deadline.After(now); c = w.head {
		w.unlinkLocked(c)
		due = append(due, c)
	}
	if w.head != nil {
		w.armLocked(w.head.dur.deadline)
	} else {
		w.armedFor = time.Time{}
	}
	w.mu.Unlock()
	for _, c := range due {
		c.endMaxDuration()
	}
}

// endMaxDuration ends c, which reached its maximum duration.
func (c *call) endMaxDuration() {
	defer c.s.recoverGo("max call duration")
	c.logger().Warn("call reached the maximum duration: ending it", "max", c.dur.limit.String())
	c.cancel(ErrMaxDuration)
}
