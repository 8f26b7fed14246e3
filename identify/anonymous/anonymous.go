// Package anonymous is the "anonymous" identifier: it matches every request that reaches it,
// with one caller template ([identify] anonymous, default "anonymous"). It belongs last in
// [sip] identify; the template's dialplan context decides what such callers may reach.
//
// A request another identifier rejected (for example a trusted header naming a template that
// does not exist) never reaches it: the chain stops at the rejection.
package anonymous

import (
	"context"
	"errors"
	"fmt"

	"github.com/sidecar-voip/sidecar/identify"
	"github.com/sidecar-voip/sidecar/profile"
	"github.com/sidecar-voip/sidecar/request"
)

// Name is the identifier's name in [sip] identify.
const Name = "anonymous"

// Anonymous is the anonymous identifier.
type Anonymous struct {
	template string
}

// New builds the anonymous identifier; it is an identify.Factory. It fails when the
// configured template does not exist.
func New(deps identify.Deps) (identify.Identifier, error) {
	name := deps.Config.Anonymous
	switch {
	case deps.Templates == nil:
		return nil, errors.New("no templates")
	case name == "":
		return nil, errors.New("[identify] anonymous: no template named")
	case !deps.Templates.Has(name):
		return nil, fmt.Errorf("[identify] anonymous: %w %q", profile.ErrUnknownTemplate, name)
	}
	return &Anonymous{template: name}, nil
}

// Name returns "anonymous".
func (a *Anonymous) Name() string { return Name }

// Identify always matches, with the configured caller template.
func (a *Anonymous) Identify(context.Context, *request.Request) (identify.Result, error) {
	return identify.Result{Caller: profile.Match{Name: a.template}}, nil
}

var _ identify.Identifier = (*Anonymous)(nil)
