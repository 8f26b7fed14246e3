// Package lazylog defers a slog handler's WithAttrs and WithGroup until a record is
// actually handled. slog's text and JSON handlers format the attributes of
// Logger.With at once (a buffer appended to and a handler cloned per call), which a call
// path pays for every call even when nothing is logged at the configured level; through
// this handler, With only records the attributes, and a logger that never writes a
// record never formats them. A logger that does write formats them once (the built
// handler is kept), so output is byte for byte what the wrapped handler writes.
package lazylog

import (
	"context"
	"log/slog"
	"sync"
)

// New wraps h.
func New(h slog.Handler) slog.Handler { return &handler{base: h} }

// step is one deferred WithAttrs (group empty) or WithGroup (attrs nil).
type step struct {
	attrs []slog.Attr
	group string
}

type handler struct {
	base  slog.Handler // the wrapped handler, with no steps applied
	steps []step       // applied in order to base on first Handle

	once  sync.Once
	built slog.Handler
}

func (h *handler) Enabled(ctx context.Context, l slog.Level) bool { return h.base.Enabled(ctx, l) }

func (h *handler) Handle(ctx context.Context, r slog.Record) error {
	h.once.Do(func() {
		b := h.base
		for _, s := range h.steps {
			if s.attrs != nil {
				b = b.WithAttrs(s.attrs)
			} else {
				b = b.WithGroup(s.group)
			}
		}
		h.built = b
	})
	return h.built.Handle(ctx, r)
}

func (h *handler) with(s step) *handler {
	steps := make([]step, len(h.steps), len(h.steps)+1)
	copy(steps, h.steps)
	return &handler{base: h.base, steps: append(steps, s)}
}

func (h *handler) WithAttrs(as []slog.Attr) slog.Handler {
	if len(as) == 0 {
		return h
	}
	return h.with(step{attrs: as})
}

func (h *handler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	return h.with(step{group: name})
}
