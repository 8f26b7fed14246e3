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
//   - any other error: the request is rejected (fail closed). An *Error carries the SIP answer
//     it deserves, for example 403 "Unknown Template" when a trusted header names a template
//     that does not exist; such a request never falls through to a later identifier.
//
// When no identifier matches, the chain returns ErrNoMatch and the SIP service answers
// [sip] no-match (403 by default). StatusOf maps every outcome to its SIP answer in one place.
package identify

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/sidecar-voip/sidecar/config"
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

// Error is a rejection: the request must be answered with Status and Reason, and Err says why
// (for the log; it never holds a whole header dump or a secret).
type Error struct {
	// Status is the SIP status code, 400-699.
	Status int
	// Reason is the reason phrase sent with it, for example "Unknown Template".
	Reason string
	// Err is the cause.
	Err error
}

// Reject returns an *Error answering status and reason because of err.
func Reject(status int, reason string, err error) *Error {
	return &Error{Status: status, Reason: reason, Err: err}
}

// Error formats the rejection for a log line: "403 Unknown Template: cause".
func (e *Error) Error() string {
	s := strconv.Itoa(e.Status) + " " + e.Reason
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// SIPStatus returns the SIP status code to answer with.
func (e *Error) SIPStatus() int { return e.Status }

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

// StatusOf maps the outcome of Chain.Identify to the SIP answer for a request that does not
// proceed: 0 and "" for nil (go on with the call); noMatch (the [sip] no-match setting) for
// ErrNoMatch; an *Error's own status and reason; 500 "Server Internal Error" for anything
// else, since an identifier that fails for another reason must not let the request through.
func StatusOf(err error, noMatch int) (status int, reason string) {
	var e *Error
	switch {
	case err == nil:
		return 0, ""
	case errors.As(err, &e):
		return e.Status, e.Reason
	case errors.Is(err, ErrNoMatch):
		return noMatch, ReasonPhrase(noMatch)
	default:
		return 500, "Server Internal Error"
	}
}

// ReasonPhrase returns the RFC 3261 reason phrase of common failure codes, "Rejected" for others.
func ReasonPhrase(status int) string {
	switch status {
	case 400:
		return "Bad Request"
	case 401:
		return "Unauthorized"
	case 403:
		return "Forbidden"
	case 404:
		return "Not Found"
	case 480:
		return "Temporarily Unavailable"
	case 486:
		return "Busy Here"
	case 488:
		return "Not Acceptable Here"
	case 500:
		return "Server Internal Error"
	case 503:
		return "Service Unavailable"
	case 603:
		return "Decline"
	case 604:
		return "Does Not Exist Anywhere"
	}
	return "Rejected"
}

// panicError turns a recovered panic into a rejection.
func panicError(name string, v any) error {
	return Reject(500, "Server Internal Error", fmt.Errorf("identifier %s panicked: %v", name, v))
}
