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
		c := &call{s: &Server{log: slog.New(slog.DiscardHandler)}, log: slog.New(slog.DiscardHandler)}
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
		stop := c.limitDuration(limit)
		if !stop() {
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
