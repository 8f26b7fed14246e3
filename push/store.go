package push

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sidecar-voip/sidecar/routing"
)

// MaxTTL is the longest TTL a push may carry.
const MaxTTL = 366 * 24 * time.Hour

// retryExpiry is how long the janitor waits before trying again to remove expired pushes
// whose removal did not compile (a template still inherits from them).
const retryExpiry = time.Minute

// Entry is one pushed template.
type Entry struct {
	// Name is the template's name.
	Name string `json:"name"`
	// Text is the template in the dialect, as stored and compiled ("pushed:NAME" line 1 is
	// its first line).
	Text string `json:"-"`
	// Expires is when the janitor removes it; zero for never.
	Expires time.Time `json:"expires,omitzero"`
	// Updated is when it was last pushed.
	Updated time.Time `json:"updated,omitzero"`
}

// Options configure a Store.
type Options struct {
	// Rebuilder compiles and swaps each new set. Required.
	Rebuilder Rebuilder
	// Dir, when set, is where pushes are persisted (see ReadDir); "" keeps them in memory.
	Dir string
	// Initial are the pushes the running bundle was loaded with (ReadDir's, at start).
	Initial []Entry
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// MaxTemplates bounds how many templates may be pushed; 0 means DefaultMaxTemplates.
	MaxTemplates int
	// Log receives the janitor's failures; nil discards them.
	Log *slog.Logger
}

// Store is the set of pushed templates. It is safe for concurrent use; changes are
// serialised, each compiling the whole new set aside (see Rebuilder).
type Store struct {
	opts    Options
	mu      sync.Mutex // serialises changes: compile, persist, swap, commit to entries
	entries map[string]Entry
	retryAt time.Time // the janitor's next attempt after a failed expiry; zero for none
	kick    chan struct{}
	failed  []Failure // the most recent refused changes and expiries, newest last, at most maxFailures
}

// maxFailures bounds the refused changes a Store remembers for the status page.
const maxFailures = 16

// Failure is a push, patch, delete or expiry that was refused.
type Failure struct {
	Time time.Time `json:"time"`
	// Name is the template the change was about ("" for an expiry of several).
	Name string `json:"name,omitempty"`
	// Err is why, in the compiler's words ("pushed:NAME:LINE: ...").
	Err string `json:"error"`
}

// RecentFailures returns the most recent refused changes, newest first (a bounded number).
func (s *Store) RecentFailures() []Failure {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := slices.Clone(s.failed)
	slices.Reverse(out)
	return out
}

// fail records a refused change. Call with s.mu held.
func (s *Store) fail(name string, err error) {
	s.failed = append(s.failed, Failure{Time: s.opts.Now(), Name: name, Err: err.Error()})
	if len(s.failed) > maxFailures {
		s.failed = slices.Delete(s.failed, 0, len(s.failed)-maxFailures)
	}
}

// ReadDir reads the pushes persisted in dir (creating it when missing) and removes those
// expired at now. Load the first bundle with Pushed(entries), then give them to New.
func ReadDir(dir string, now time.Time) ([]Entry, error) {
	m, err := readDir(dir, now)
	if err != nil {
		return nil, err
	}
	return sorted(m), nil
}

// Pushed returns entries as routing.Options.Pushed.
func Pushed(entries []Entry) []routing.Pushed {
	out := make([]routing.Pushed, 0, len(entries))
	for _, e := range entries {
		out = append(out, routing.Pushed{Name: e.Name, Text: e.Text})
	}
	return out
}

// New returns a Store over o.Initial.
func New(o Options) *Store {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.MaxTemplates <= 0 {
		o.MaxTemplates = DefaultMaxTemplates
	}
	s := &Store{opts: o, entries: map[string]Entry{}, kick: make(chan struct{}, 1)}
	for _, e := range o.Initial {
		s.entries[e.Name] = e
	}
	return s
}

// Current returns the running bundle.
func (s *Store) Current() *routing.Bundle { return s.opts.Rebuilder.Current() }

// List returns every pushed template, sorted by name.
func (s *Store) List() []Entry {
	s.mu.Lock()
	defer s.mu.Unlock()
	return sorted(s.entries)
}

// Get returns the pushed template name.
func (s *Store) Get(name string) (Entry, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.entries[name]
	return e, ok
}

// Result is a change that applied: the entry (zero after a delete) and the load's warnings
// and unroutable findings about pushed templates ("pushed:NAME:line: message").
type Result struct {
	Entry    Entry    `json:"template"`
	Warnings []string `json:"warnings,omitempty"`
}

// Put replaces (or creates) the pushed template name with text (see FromText, FromJSON);
// ttl > 0 expires it after ttl, 0 never. Errors: ErrBadRequest, ErrConflict (a file
// template has the name), ErrFull, *InvalidError (the new set does not compile).
func (s *Store) Put(name, text string, ttl time.Duration) (Result, error) {
	if err := CheckName(name); err != nil {
		return Result{}, err
	}
	if ttl < 0 || ttl > MaxTTL {
		return Result{}, fmt.Errorf("%w: ttl %v: want 0 (none) up to %v", ErrBadRequest, ttl, MaxTTL)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.entries[name]; !ok {
		if err := s.fileTemplate(name); err != nil {
			return Result{}, err
		}
		if len(s.entries) >= s.opts.MaxTemplates {
			return Result{}, fmt.Errorf("%w: at most %d", ErrFull, s.opts.MaxTemplates)
		}
	}
	now := s.opts.Now()
	e := Entry{Name: name, Text: text, Updated: now}
	if ttl > 0 {
		e.Expires = now.Add(ttl)
	}
	return s.change(e, "")
}

// Patch merges p into the pushed template name (see Patch); ttl, when not nil, replaces its
// expiry as Put's does. Errors as Put's, and ErrNotFound.
func (s *Store) Patch(name string, p Patch, ttl *time.Duration) (Result, error) {
	if err := CheckName(name); err != nil {
		return Result{}, err
	}
	if ttl != nil && (*ttl < 0 || *ttl > MaxTTL) {
		return Result{}, fmt.Errorf("%w: ttl %v: want 0 (none) up to %v", ErrBadRequest, *ttl, MaxTTL)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.entries[name]
	if !ok {
		if err := s.fileTemplate(name); err != nil {
			return Result{}, err
		}
		return Result{}, fmt.Errorf("%w: %s", ErrNotFound, name)
	}
	sec := s.Current().Section(name)
	if sec == nil {
		return Result{}, fmt.Errorf("%w: %s is not in the running set", ErrNotFound, name)
	}
	text, err := p.apply(name, sec)
	if err != nil {
		return Result{}, err
	}
	now := s.opts.Now()
	e := Entry{Name: name, Text: text, Updated: now, Expires: old.Expires}
	if ttl != nil {
		e.Expires = time.Time{}
		if *ttl > 0 {
			e.Expires = now.Add(*ttl)
		}
	}
	return s.change(e, "")
}

// Delete removes the pushed template name. Errors: ErrNotFound, ErrConflict (a file
// template), *InvalidError (a template still inherits from it).
func (s *Store) Delete(name string) (Result, error) {
	if err := CheckName(name); err != nil {
		return Result{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.entries[name]; !ok {
		if err := s.fileTemplate(name); err != nil {
			return Result{}, err
		}
		return Result{}, fmt.Errorf("%w: %s", ErrNotFound, name)
	}
	return s.change(Entry{}, name)
}

// fileTemplate returns ErrConflict when the running set has a file template name.
func (s *Store) fileTemplate(name string) error {
	if sec := s.Current().Section(name); sec != nil {
		if _, pushed := routing.PushedName(sec.Pos.File); !pushed {
			return fmt.Errorf("%w: [%s] is a template of %s: change it in its file, or push another name", ErrConflict, name, sec.Pos)
		}
	}
	return nil
}

// change applies one change under s.mu: put sets (when put.Name != "") and del removes.
func (s *Store) change(put Entry, del string) (Result, error) {
	next := make(map[string]Entry, len(s.entries)+1)
	for k, v := range s.entries {
		next[k] = v
	}
	if put.Name != "" {
		next[put.Name] = put
	}
	if del != "" {
		delete(next, del)
	}
	commit := func() error {
		switch {
		case s.opts.Dir == "":
			return nil
		case put.Name != "":
			return writeEntry(s.opts.Dir, put)
		default:
			return removeEntry(s.opts.Dir, del)
		}
	}
	diag, err := s.opts.Rebuilder.Rebuild(Pushed(sorted(next)), commit)
	if err != nil {
		s.fail(cmp.Or(put.Name, del), err)
		var le *routing.LoadError
		if errors.As(err, &le) {
			return Result{}, &InvalidError{Err: err}
		}
		return Result{}, err
	}
	s.entries = next
	s.wake()
	return Result{Entry: put, Warnings: pushedWarnings(diag)}, nil
}

// pushedWarnings are the load's warnings about pushed templates.
func pushedWarnings(d routing.Diagnostics) []string {
	var out []string
	for _, w := range slices.Concat(d.Warnings, d.Unroutable) {
		if strings.HasPrefix(w.Pos.File, routing.PushedPrefix) {
			out = append(out, w.Error())
		}
	}
	return out
}

// Expire removes every push expired at the clock's now, in one rebuild, and returns their
// names. When the removal does not compile (a template inherits from an expired one) they
// stay, the error is returned, and the janitor tries again a minute later.
func (s *Store) Expire() ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.opts.Now()
	next := make(map[string]Entry, len(s.entries))
	var gone []string
	for k, e := range s.entries {
		if !e.Expires.IsZero() && !now.Before(e.Expires) {
			gone = append(gone, k)
			continue
		}
		next[k] = e
	}
	if len(gone) == 0 {
		return nil, nil
	}
	slices.Sort(gone)
	commit := func() error {
		if s.opts.Dir == "" {
			return nil
		}
		var errs []error
		for _, name := range gone {
			errs = append(errs, removeEntry(s.opts.Dir, name))
		}
		return errors.Join(errs...)
	}
	if _, err := s.opts.Rebuilder.Rebuild(Pushed(sorted(next)), commit); err != nil {
		s.retryAt = now.Add(retryExpiry)
		err = fmt.Errorf("expire %s: %w", strings.Join(gone, ", "), err)
		s.fail("", err)
		return nil, err
	}
	s.retryAt = time.Time{}
	s.entries = next
	return gone, nil
}

// next returns when the janitor must run next: the earliest expiry (or retry), zero for
// never.
func (s *Store) next() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	var at time.Time
	for _, e := range s.entries {
		if !e.Expires.IsZero() && (at.IsZero() || e.Expires.Before(at)) {
			at = e.Expires
		}
	}
	if !s.retryAt.IsZero() && at.Before(s.retryAt) {
		at = s.retryAt
	}
	return at
}

func (s *Store) wake() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// Run is the janitor: one goroutine that removes pushes as they expire, until ctx ends.
func (s *Store) Run(ctx context.Context) {
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	for {
		wait := time.Hour
		if at := s.next(); !at.IsZero() {
			wait = max(at.Sub(s.opts.Now()), 0)
		}
		t.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-s.kick:
			continue
		case <-t.C:
		}
		gone, err := s.Expire()
		if err != nil {
			s.opts.Log.Error("pushed templates not expired", "err", err)
		}
		if len(gone) > 0 {
			s.opts.Log.Info("pushed templates expired", "templates", gone)
		}
	}
}

func sorted(m map[string]Entry) []Entry {
	out := make([]Entry, 0, len(m))
	for _, e := range m {
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b Entry) int { return strings.Compare(a.Name, b.Name) })
	return out
}
