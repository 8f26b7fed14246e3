// Package subs is the table of message-summary subscriptions (RFC 6665) a notifier holds:
// each subscription's dialog (what an in-dialog NOTIFY needs), its mailbox and its expiry,
// indexed by dialog and by mailbox, with a bound on the count. It sends nothing and keeps
// no clock: callers pass the time, so expiry is tested without waiting.
package subs

import (
	"errors"
	"sync"
	"time"
)

// Errors of the table.
var (
	// ErrFull reports a new subscription past the table's bound (answer 503).
	ErrFull = errors.New("subscription table full")
	// ErrUnknown reports a subscription the table does not hold (answer 481).
	ErrUnknown = errors.New("no such subscription")
	// ErrExists reports a dialog id already in the table.
	ErrExists = errors.New("subscription already exists")
)

// Dialog is what a notifier needs to send NOTIFYs inside a subscription's dialog (RFC 3261
// 12.1.1, the UAS side): the dialog identifiers, the remote target and the route set.
type Dialog struct {
	CallID    string
	LocalTag  string // our tag (the To tag of our 200)
	RemoteTag string // the subscriber's From tag
	// LocalURI is the To URI of the SUBSCRIBE (the resource), our From in NOTIFYs;
	// RemoteURI is its From URI, our To.
	LocalURI, RemoteURI string
	// Target is the SUBSCRIBE's Contact URI, the NOTIFY's Request-URI.
	Target string
	// RouteSet is the SUBSCRIBE's Record-Route values, in order (they are the NOTIFY's
	// Route headers, in the same order).
	RouteSet []string
	// Transport is the transport the SUBSCRIBE arrived on ("udp", "tcp", "tls"); Source its
	// source address (ip:port), where NOTIFYs go when RouteSet and Target name no other.
	Transport, Source string
}

// ID is the dialog id a subscription is filed under.
func (d Dialog) ID() string { return d.CallID + "\x00" + d.LocalTag + "\x00" + d.RemoteTag }

// Sub is one subscription.
type Sub struct {
	Dialog Dialog
	// Mailbox is the voicemail box the subscription watches; Account is the Message-Account
	// URI of its NOTIFY bodies.
	Mailbox, Account string
	// Expires is when the subscription ends unless refreshed.
	Expires time.Time
	// CSeq is the CSeq of the last NOTIFY sent in the dialog (0: none yet).
	CSeq uint32
}

// Table holds subscriptions; it is safe for concurrent use.
type Table struct {
	max int

	mu        sync.Mutex
	byID      map[string]*Sub
	byMailbox map[string]map[string]*Sub
}

// New returns a table holding at most limit subscriptions (limit < 1 means 1).
func New(limit int) *Table {
	return &Table{max: max(limit, 1), byID: map[string]*Sub{}, byMailbox: map[string]map[string]*Sub{}}
}

// Add files a new subscription: ErrFull past the bound, ErrExists for a dialog already held.
func (t *Table) Add(s Sub) error {
	id := s.Dialog.ID()
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.byID[id]; ok {
		return ErrExists
	}
	if len(t.byID) >= t.max {
		return ErrFull
	}
	p := &s
	p.Dialog.RouteSet = append([]string(nil), s.Dialog.RouteSet...)
	t.byID[id] = p
	m := t.byMailbox[s.Mailbox]
	if m == nil {
		m = map[string]*Sub{}
		t.byMailbox[s.Mailbox] = m
	}
	m[id] = p
	return nil
}

// Refresh sets a subscription's expiry and returns it; ErrUnknown when it is not held.
func (t *Table) Refresh(id string, expires time.Time) (Sub, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	p, ok := t.byID[id]
	if !ok {
		return Sub{}, ErrUnknown
	}
	p.Expires = expires
	return clone(p), nil
}

// Get returns a subscription.
func (t *Table) Get(id string) (Sub, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	p, ok := t.byID[id]
	if !ok {
		return Sub{}, false
	}
	return clone(p), true
}

// NextCSeq allocates the CSeq of the next NOTIFY of a subscription and returns it with the
// subscription; ok is false when it is no longer held.
func (t *Table) NextCSeq(id string) (Sub, uint32, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	p, ok := t.byID[id]
	if !ok {
		return Sub{}, 0, false
	}
	p.CSeq++
	return clone(p), p.CSeq, true
}

// Remove takes a subscription out of the table and returns it.
func (t *Table) Remove(id string) (Sub, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	p, ok := t.byID[id]
	if !ok {
		return Sub{}, false
	}
	t.removeLocked(id, p)
	return clone(p), true
}

func (t *Table) removeLocked(id string, p *Sub) {
	delete(t.byID, id)
	if m := t.byMailbox[p.Mailbox]; m != nil {
		delete(m, id)
		if len(m) == 0 {
			delete(t.byMailbox, p.Mailbox)
		}
	}
}

// Expired removes and returns the subscriptions whose expiry is not after now.
func (t *Table) Expired(now time.Time) []Sub {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []Sub
	for id, p := range t.byID {
		if !p.Expires.After(now) {
			t.removeLocked(id, p)
			out = append(out, clone(p))
		}
	}
	return out
}

// ForMailbox returns the ids of a mailbox's subscriptions.
func (t *Table) ForMailbox(mailbox string) []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	m := t.byMailbox[mailbox]
	out := make([]string, 0, len(m))
	for id := range m {
		out = append(out, id)
	}
	return out
}

// Watched reports whether a mailbox has a subscription.
func (t *Table) Watched(mailbox string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.byMailbox[mailbox]) > 0
}

// Len is the number of subscriptions held.
func (t *Table) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.byID)
}

func clone(p *Sub) Sub {
	s := *p
	s.Dialog.RouteSet = append([]string(nil), p.Dialog.RouteSet...)
	return s
}
