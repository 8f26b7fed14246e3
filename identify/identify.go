// Package identify decides which templates build a call's caller and callee profiles, by
// running a chain of identifiers in the order [sip] identify lists them; the first that
// matches wins.
//
// Each identifier is a small package registered by name (identify/header, identify/ip,
// identify/username, identify/anonymous; identify/standard registers all four). An identifier
// answers in one of three ways:
//
//   - a Result: it matched, and the chain stops;
//   - ErrNoMatch: it has nothing to say, and the next identifier runs;
//   - any other error: the request is rejected (fail closed). A *sipstatus.Error carries the
//     SIP answer it deserves, for example 403 "Unknown Template" when a trusted header names a template
//     that does not exist; such a request never falls through to a later identifier.
//
// When no identifier matches, the chain returns ErrNoMatch and the SIP service answers
// [sip] no-match (403 by default): Answer gives ErrNoMatch that status, and sipstatus maps
// every outcome to its SIP answer.
package identify

import (
	"context"
	"errors"

	"github.com/sidecar-voip/sidecar/config"
	"github.com/sidecar-voip/sidecar/internal/sipstatus"
	"github.com/sidecar-voip/sidecar/profile"
	"github.com/sidecar-voip/sidecar/request"
)

// Result is what a matching identifier found: the template (and parameters) for the caller
// and for the callee. Either Match may be zero, meaning no template for that party.
type Result struct {
	// Identifier is the name of the identifier that matched ("header", "ip", ...).
	Identifier string
	// Caller and Callee are the templates that build the two profiles.
	Caller, Callee profile.Match
}

// Identifier is one link of the chain.
//
// Identify must be safe for concurrent use and must not keep req. It returns ErrNoMatch (or an
// error wrapping it) to pass to the next identifier; any other error rejects the request.
type Identifier interface {
	// Name is the name the identifier is registered and configured under.
	Name() string
	// Identify looks at one request.
	Identify(ctx context.Context, req *request.Request) (Result, error)
}

// ErrNoMatch says an identifier has nothing to say about a request; the chain asks the next
// one. The chain returns it (wrapped) when no identifier matched.
var ErrNoMatch = errors.New("no match")

// Templates is what identifiers need of a compiled template set; *profile.Set satisfies it.
type Templates interface {
	// Select evaluates [template-match] over the request (see profile.Set.Select).
	Select(req *request.Request) (caller, callee profile.Match, err error)
	// Has reports whether name is a concrete template that can build a profile.
	Has(name string) bool
}

// Deps is what a Factory may use to build an identifier.
type Deps struct {
	// Templates is the compiled template set the identifiers select from.
	Templates Templates
	// Config is the [identify] section.
	Config config.Identify
}

// Factory builds one identifier. It fails when the configuration does not fit the templates,
// for example an [identify] ip rule naming a template that does not exist.
type Factory func(Deps) (Identifier, error)

// Answer returns the error the SIP service answers for an outcome of Chain.Identify that does
// not proceed: nil for nil; for ErrNoMatch, a *sipstatus.Error answering noMatch (the [sip]
// no-match setting) that wraps it; any other error as it is (a rejection already is a
// *sipstatus.Error, and sipstatus.Answer answers anything else 500, since an identifier that
// fails for another reason must not let the request through).
func Answer(err error, noMatch int) error {
	var e *sipstatus.Error
	if err != nil && !errors.As(err, &e) && errors.Is(err, ErrNoMatch) {
		return sipstatus.New(noMatch, err)
	}
	return err
}

// panicError turns a recovered panic into a rejection.
func panicError(name string, v any) error {
	return sipstatus.Newf(500, "identifier %s panicked: %v", name, v)
}
