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
	"sync/atomic"
)

// New wraps h.
func New(h slog.Handler) slog.Handler { return &handler{base: h} }

// step is one deferred WithAttrs, or a WithGroup (group true: the name is attrs[0].Key; a
// flag and a rare one-element slice rather than a string field in every handler).
type step struct {
	attrs []slog.Attr
	group bool
}

// handler is base with its steps: this handler's own (the last) after its parent's, a chain
// that With extends by one node (no copy of the earlier steps).
type handler struct {
	base   slog.Handler // the wrapped handler, with no steps applied
	parent *handler     // the steps before this one; nil for New's handler
	step   step         // this handler's step (none for New's handler)

	// built is base with the steps applied, made by the first record written (two racing
	// writers may both build it: the same handler, one copy kept). A pointer rather than a
	// sync.Once and an interface: every per-call logger carries it, and most never write.
	built atomic.Pointer[slog.Handler]
}

// logged is a handler made by With with its Logger, in one allocation: With returns the
// address of l, whose handler is &h.
type logged struct {
	h handler
	l slog.Logger
}

func (h *handler) Enabled(ctx context.Context, l slog.Level) bool { return h.base.Enabled(ctx, l) }

func (h *handler) Handle(ctx context.Context, r slog.Record) error {
	return h.build().Handle(ctx, r)
}

// build applies the steps to base, once: the parent's built handler, then this step.
func (h *handler) build() slog.Handler {
	if b := h.built.Load(); b != nil {
		return *b
	}
	if h.parent == nil {
		return h.base
	}
	b := h.parent.build()
	if h.step.group {
		b = b.WithGroup(h.step.attrs[0].Key)
	} else {
		b = b.WithAttrs(h.step.attrs)
	}
	if !h.built.CompareAndSwap(nil, &b) {
		return *h.built.Load()
	}
	return b
}

func (h *handler) with(s step) *handler {
	return &handler{base: h.base, parent: h, step: s}
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
	return h.with(step{attrs: []slog.Attr{{Key: name}}, group: true})
}

// With is l.With(attrs...) for attributes built by the caller with slog.String, slog.Int and
// the like: the same logger, without slog's conversion of an argument list (each value boxed
// in an interface, then a slice of attributes made from them). attrs must not change
// afterwards (the handler keeps the slice). On a logger of this package's handler the new
// handler and its Logger are one allocation.
func With(l *slog.Logger, attrs ...slog.Attr) *slog.Logger {
	if len(attrs) == 0 {
		return l
	}
	h, ok := l.Handler().(*handler)
	if !ok {
		return slog.New(l.Handler().WithAttrs(attrs))
	}
	x := &logged{h: handler{base: h.base, parent: h, step: step{attrs: attrs}}}
	x.l = *slog.New(&x.h)
	return &x.l
}
