// Package watchhub is the subscriber side of voicemail.Store.Watch that every store shares:
// per mailbox, the subscribers' one-slot channels holding the latest counts, the first value
// read after subscribing, recounts that push only counts that moved, and unsubscription when
// a watcher's context ends. How a store learns of a change (inotify, LISTEN/NOTIFY) stays
// with the store, which calls Recount.
package watchhub

import (
	"context"
	"sync"

	"github.com/sidecar-voip/sidecar/voicemail"
)

// Hooks are what a Hub needs of its store.
type Hooks struct {
	// Counts reads a mailbox's counts.
	Counts func(ctx context.Context, mbox string) (voicemail.Counts, error)
	// First, when set, runs when a mailbox gets its first subscriber, under the hub's lock;
	// an error refuses the subscription.
	First func(mbox string) error
	// Last, when set, runs when a mailbox loses its last subscriber, under the hub's lock.
	Last func(mbox string)
}

// Hub fans mailbox counts out to subscribers. Safe for concurrent use.
type Hub struct {
	hooks Hooks

	// recountMu orders recounts, so a slower one never overwrites newer counts.
	recountMu sync.Mutex

	mu    sync.Mutex
	boxes map[string]*watched
}

type watched struct {
	subs map[*sub]struct{}
	last voicemail.Counts
	have bool
}

type sub struct {
	ch   chan voicemail.Counts
	stop func() bool
}

// New returns an empty Hub.
func New(hooks Hooks) *Hub {
	return &Hub{hooks: hooks, boxes: map[string]*watched{}}
}

// Subscribe returns a channel holding mbox's latest counts, the first ones read at once,
// until ctx ends or the hub closes; then the channel is closed. If the first read fails the
// first value comes with the next recount.
func (h *Hub) Subscribe(ctx context.Context, mbox string) (<-chan voicemail.Counts, error) {
	sb := &sub{ch: make(chan voicemail.Counts, 1)}
	h.mu.Lock()
	b := h.boxes[mbox]
	if b == nil {
		b = &watched{subs: map[*sub]struct{}{}}
		h.boxes[mbox] = b
		if h.hooks.First != nil {
			if err := h.hooks.First(mbox); err != nil {
				delete(h.boxes, mbox)
				h.mu.Unlock()
				return nil, err
			}
		}
	}
	b.subs[sb] = struct{}{}
	h.mu.Unlock()
	sb.stop = context.AfterFunc(ctx, func() { h.unsubscribe(mbox, sb) })
	// The first value: read after subscribing, so no change can fall between.
	c, err := h.hooks.Counts(context.WithoutCancel(ctx), mbox)
	if err == nil {
		h.mu.Lock()
		if _, live := b.subs[sb]; live {
			if !b.have { // else b.last is newer than c or equal: every change since updated it
				b.last, b.have = c, true
			}
			offer(sb.ch, b.last)
		}
		h.mu.Unlock()
	}
	return sb.ch, nil
}

func (h *Hub) unsubscribe(mbox string, sb *sub) {
	h.mu.Lock()
	defer h.mu.Unlock()
	b := h.boxes[mbox]
	if b == nil {
		return
	}
	if _, ok := b.subs[sb]; !ok {
		return
	}
	delete(b.subs, sb)
	close(sb.ch)
	if len(b.subs) == 0 {
		delete(h.boxes, mbox)
		if h.hooks.Last != nil {
			h.hooks.Last(mbox)
		}
	}
}

// offer puts c in a one-slot channel, replacing a value not yet read.
func offer(ch chan voicemail.Counts, c voicemail.Counts) {
	for {
		select {
		case ch <- c:
			return
		default:
		}
		select {
		case <-ch:
		default:
		}
	}
}

// Watching runs f under the hub's lock if mbox has subscribers (ordered with the First and
// Last hooks), and reports whether it did.
func (h *Hub) Watching(mbox string, f func()) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.boxes[mbox]; !ok {
		return false
	}
	if f != nil {
		f()
	}
	return true
}

// Recount re-reads a watched mailbox's counts and pushes them if they moved, or always with
// force (after lost notifications a subscriber that never got a first value gets one). A
// failed read keeps the last counts.
func (h *Hub) Recount(ctx context.Context, mbox string, force bool) {
	if !h.Watching(mbox, nil) {
		return
	}
	h.recountMu.Lock()
	defer h.recountMu.Unlock()
	c, err := h.hooks.Counts(ctx, mbox)
	if err != nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	b := h.boxes[mbox]
	if b == nil || (b.have && b.last == c && !force) {
		return
	}
	b.last, b.have = c, true
	for sb := range b.subs {
		offer(sb.ch, c)
	}
}

// RecountAll recounts every watched mailbox (with force, see Recount).
func (h *Hub) RecountAll(ctx context.Context, force bool) {
	h.mu.Lock()
	boxes := make([]string, 0, len(h.boxes))
	for m := range h.boxes {
		boxes = append(boxes, m)
	}
	h.mu.Unlock()
	for _, m := range boxes {
		h.Recount(ctx, m, force)
	}
}

// Close closes every subscriber's channel and forgets the mailboxes (the Last hook does not
// run: the store is going away).
func (h *Hub) Close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for m, b := range h.boxes {
		for sb := range b.subs {
			sb.stop()
			close(sb.ch)
		}
		delete(h.boxes, m)
	}
}
