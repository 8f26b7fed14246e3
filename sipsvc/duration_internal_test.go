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

	c = newCall()
	stop := c.limitDuration(20 * time.Millisecond)
	if !stop() {
		t.Fatal("stop: the guard had already fired")
	}
	select {
	case <-c.ctx.Done():
		t.Errorf("stopped guard ended the call: %v", context.Cause(c.ctx))
	case <-time.After(100 * time.Millisecond):
	}
}
