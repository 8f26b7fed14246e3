package sipsvc

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"
)

// limitDuration ends the call's context with ErrMaxDuration once the duration passed, and
// not when stopped first.
func TestLimitDuration(t *testing.T) {
	newCall := func() *call {
		c := &call{s: &Server{log: slog.New(slog.DiscardHandler)}}
		c.startLog.Store(slog.New(slog.DiscardHandler))
		c.ctx, c.cancel = context.WithCancelCause(context.Background())
		t.Cleanup(func() { c.cancel(nil) })
		return c
	}
	c := newCall()
	c.limitDuration(20 * time.Millisecond)
	select {
	case <-c.ctx.Done():
		if cause := context.Cause(c.ctx); !errors.Is(cause, ErrMaxDuration) {
			t.Errorf("cause %v, want ErrMaxDuration", cause)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("call not ended after its maximum duration")
	}

	// Stopped before it fires: a loaded machine can deschedule the test past a short limit
	// between limitDuration and stop, so a guard found already fired is retried with a longer
	// limit (a fixed 20 ms could fail spuriously).
	for limit := 20 * time.Millisecond; ; limit *= 4 {
		c = newCall()
		c.limitDuration(limit)
		if !c.stopDuration() {
			if limit > 2*time.Second {
				t.Fatal("stop: the guard had always already fired")
			}
			t.Logf("guard of %v fired before stop; retrying with a longer limit", limit)
			continue
		}
		select {
		case <-c.ctx.Done():
			t.Errorf("stopped guard ended the call: %v", context.Cause(c.ctx))
		case <-time.After(limit + 100*time.Millisecond):
		}
		return
	}
}

// The calls share one timer: a call joins the list by its deadline, fire ends only the ones
// past it, and a call that left (stopDuration) is never ended.
func TestDurationLimitsShared(t *testing.T) {
	s := &Server{log: slog.New(slog.DiscardHandler)}
	newCall := func() *call {
		c := &call{s: s}
		c.startLog.Store(slog.New(slog.DiscardHandler))
		c.ctx, c.cancel = context.WithCancelCause(context.Background())
		t.Cleanup(func() { c.cancel(nil) })
		return c
	}
	w := &s.durations
	now := time.Now()
	late, due, later, gone := newCall(), newCall(), newCall(), newCall()
	w.add(late, now.Add(time.Hour))
	// gone is due after due and before late: were it still listed after stopDuration, it
	// would be the head after fire (checked below). A deadline in the past would arm the
	// real timer at once, and it could end gone before stopDuration takes it out.
	w.add(gone, now.Add(30*time.Minute))
	w.add(due, now.Add(-time.Second)) // before late: the list is by deadline
	w.add(later, now.Add(2*time.Hour))
	if !gone.stopDuration() {
		t.Fatal("stopDuration of a call in the list reported it fired")
	}
	w.fire() // the timer may have fired already for due: then this finds nothing due

	select {
	case <-due.ctx.Done():
		if cause := context.Cause(due.ctx); !errors.Is(cause, ErrMaxDuration) {
			t.Errorf("cause %v, want ErrMaxDuration", cause)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("call past its deadline not ended")
	}
	for name, c := range map[string]*call{"late": late, "later": later, "gone": gone} {
		if err := c.ctx.Err(); err != nil {
			t.Errorf("%s call ended: %v", name, context.Cause(c.ctx))
		}
	}
	if due.stopDuration() {
		t.Error("stopDuration of a fired call reported it had not fired")
	}
	w.mu.Lock()
	head, armed := w.head, w.armedFor
	w.mu.Unlock()
	if head != late || !armed.Equal(late.dur.deadline) {
		t.Errorf("after fire: head is the late call %v, armed for %v; want true, %v",
			head == late, armed, late.dur.deadline)
	}
	if !late.stopDuration() || !later.stopDuration() {
		t.Error("stopDuration of calls in the list reported they fired")
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.head != nil || w.tail != nil || !w.armedFor.IsZero() {
		t.Errorf("list not empty or timer armed after every call left: head %v tail %v armed %v",
			w.head != nil, w.tail != nil, w.armedFor)
	}
}
