package identify

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Registry maps identifier names to their factories. The order of the chain is never the
// registry's: it comes from [sip] identify, through Chain. A Registry is filled once at start
// (see identify/standard) and read afterwards; it is not safe for concurrent Add.
type Registry struct {
	factories map[string]Factory
	names     []string // in the order added
}

// NewRegistry returns an empty Registry.
func NewRegistry() *Registry {
	return &Registry{factories: map[string]Factory{}}
}

// Add registers a factory under name. A name may be registered once.
func (r *Registry) Add(name string, f Factory) error {
	switch {
	case name == "":
		return errors.New("add identifier: empty name")
	case f == nil:
		return fmt.Errorf("add identifier %s: nil factory", name)
	case r.factories[name] != nil:
		return fmt.Errorf("add identifier %s: already registered", name)
	}
	r.factories[name] = f
	r.names = append(r.names, name)
	return nil
}

// Names returns the registered names in the order they were added.
func (r *Registry) Names() []string { return slices.Clone(r.names) }

// Chain builds the identifiers named in names, in that order, with deps. It fails on an
// unknown or repeated name (naming it) and when a factory fails (wrapped with the name).
func (r *Registry) Chain(names []string, deps Deps) (*Chain, error) {
	if len(names) == 0 {
		return nil, errors.New("build identifier chain: no identifiers listed")
	}
	ids := make([]Identifier, 0, len(names))
	for i, name := range names {
		f := r.factories[name]
		if f == nil {
			return nil, fmt.Errorf("build identifier chain: unknown identifier %q (known: %s)", name, strings.Join(r.names, ", "))
		}
		if slices.Contains(names[:i], name) {
			return nil, fmt.Errorf("build identifier chain: %s is listed twice", name)
		}
		id, err := f(deps)
		if err != nil {
			return nil, fmt.Errorf("build identifier %s: %w", name, err)
		}
		if id == nil || id.Name() != name {
			return nil, fmt.Errorf("build identifier %s: factory returned an identifier named %q", name, nameOf(id))
		}
		ids = append(ids, id)
	}
	return NewChain(ids...), nil
}

func nameOf(id Identifier) string {
	if id == nil {
		return ""
	}
	return id.Name()
}
