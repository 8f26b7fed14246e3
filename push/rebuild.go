package push

import (
	"slices"
	"sync"

	"github.com/sidecar-voip/sidecar/routing"
)

// Rebuilder compiles the template files with a set of pushed templates, aside, and makes the
// result the running bundle. The hot reloader implements it so that a push and a file reload
// go through one lock and one rebuild path: a reload keeps the pushed set it was last given,
// so it never drops a push.
type Rebuilder interface {
	// Current returns the running bundle.
	Current() *routing.Bundle
	// Rebuild loads the files with pushed (replacing the pushed set given before). On a
	// load error it returns a *routing.LoadError and changes nothing. Otherwise it calls
	// commit (nil allowed); when commit fails it returns that error and changes nothing;
	// else it swaps the new bundle in, remembers pushed, and returns the load's warnings.
	Rebuild(pushed []routing.Pushed, commit func() error) (routing.Diagnostics, error)
}

// LiveRebuilder is the Rebuilder of a process without a hot reloader: it loads Options
// (the files never change under it) with each new pushed set and stores the bundle in Live.
type LiveRebuilder struct {
	mu   sync.Mutex
	opts routing.Options
	live *routing.Live
}

// NewLiveRebuilder returns a Rebuilder loading opts (its Pushed replaced at each Rebuild)
// into live, which must hold the bundle loaded from opts.
func NewLiveRebuilder(opts routing.Options, live *routing.Live) *LiveRebuilder {
	return &LiveRebuilder{opts: opts, live: live}
}

// Current returns the running bundle.
func (r *LiveRebuilder) Current() *routing.Bundle { return r.live.Current() }

// Rebuild implements Rebuilder.
func (r *LiveRebuilder) Rebuild(pushed []routing.Pushed, commit func() error) (routing.Diagnostics, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	o := r.opts
	o.Pushed = slices.Clone(pushed)
	b, diag := routing.Load(o)
	if err := diag.Err(); err != nil {
		return diag, err
	}
	if commit != nil {
		if err := commit(); err != nil {
			return diag, err
		}
	}
	r.opts = o
	r.live.Store(b)
	return diag, nil
}

var _ Rebuilder = (*LiveRebuilder)(nil)
