// Package header is the "header" identifier: the templates named by the request itself, in
// X-Caller-Template and X-Callee-Template (through the [template-match] expressions of the
// template files, which read those headers by default). The SIP service only lets requests
// from [sip] trusted addresses this far, so the headers are Kamailio's word.
//
// A request carrying neither header, whose expressions both yield "", passes
// (identify.ErrNoMatch) to the next identifier. Everything else that is not a clean selection
// fails closed, never reaching a later identifier such as anonymous:
//
//   - a name the files do not define (or an abstract one): 403 "Unknown Template";
//   - a malformed selection ("na me", ";x", ";user=alice", too long, ...): 400 "Bad Template
//     Header";
//   - X-Caller-Template or X-Callee-Template present more than once: 400 "Bad Template
//     Header" (a forged copy that escaped Kamailio's sanitising must not win by coming first);
//   - X-Caller-Template (X-Callee-Template) present, even with an empty value, while the
//     caller's (callee's) selection is empty: 400 "Bad Template Header".
//
// Presence is always about these two default header names, also when [template-match] uses
// other expressions: a request that carries X-Caller-Template while the custom
// template-as-caller selects nothing is refused, since Kamailio meant to name a template that
// the configuration then ignores.
package header

import (
	"context"
	"errors"
	"fmt"

	"github.com/sidecar-voip/sidecar/identify"
	"github.com/sidecar-voip/sidecar/internal/sipstatus"
	"github.com/sidecar-voip/sidecar/profile"
	"github.com/sidecar-voip/sidecar/request"
)

// Name is the identifier's name in [sip] identify.
const Name = "header"

// The default header names, which the built-in [template-match] expressions read. Their
// presence counts whatever the expressions are (see the package doc).
const (
	// CallerHeader names the caller's template.
	CallerHeader = "X-Caller-Template"
	// CalleeHeader names the callee's template.
	CalleeHeader = "X-Callee-Template"
)

// SIP answers of the header identifier's rejections.
const (
	// StatusUnknownTemplate answers a header naming a template that does not exist (or an
	// abstract one).
	StatusUnknownTemplate = 403
	// ReasonUnknownTemplate is its reason phrase.
	ReasonUnknownTemplate = "Unknown Template"
	// StatusBadHeader answers a malformed template selection ("na me", ";x", too long, ...),
	// a repeated template header, or a template header present while its party's selection
	// is empty.
	StatusBadHeader = 400
	// ReasonBadHeader is its reason phrase.
	ReasonBadHeader = "Bad Template Header"
)

// Header is the header identifier.
type Header struct {
	templates identify.Templates
}

// New builds the header identifier; it is an identify.Factory.
func New(deps identify.Deps) (identify.Identifier, error) {
	if deps.Templates == nil {
		return nil, errors.New("no templates")
	}
	return &Header{templates: deps.Templates}, nil
}

// Name returns "header".
func (h *Header) Name() string { return Name }

// Identify selects the caller and callee templates with [template-match].
func (h *Header) Identify(_ context.Context, req *request.Request) (identify.Result, error) {
	for _, name := range []string{CallerHeader, CalleeHeader} {
		if n := request.HeaderCount(req, name); n > 1 {
			return identify.Result{}, sipstatus.WithReason(StatusBadHeader, ReasonBadHeader,
				fmt.Errorf("%s: %w: header given %d times", name, profile.ErrInvalidValue, n))
		}
	}
	caller, callee, err := h.templates.Select(req)
	if err != nil {
		return identify.Result{}, classify(err)
	}
	for _, p := range []struct {
		header string
		m      profile.Match
	}{{CallerHeader, caller}, {CalleeHeader, callee}} {
		if p.m.Name == "" && req.HasHeader(p.header) {
			return identify.Result{}, sipstatus.WithReason(StatusBadHeader, ReasonBadHeader,
				fmt.Errorf("%s: %w: header present but no template selected", p.header, profile.ErrInvalidValue))
		}
	}
	if caller.Name == "" && callee.Name == "" {
		return identify.Result{}, identify.ErrNoMatch
	}
	// profile.Set.Select already refuses unknown names; checking again keeps the identifier
	// fail-closed with any Templates implementation.
	for _, p := range []struct {
		party string
		m     profile.Match
	}{{"caller", caller}, {"callee", callee}} {
		if p.m.Name != "" && !h.templates.Has(p.m.Name) {
			return identify.Result{}, sipstatus.WithReason(StatusUnknownTemplate, ReasonUnknownTemplate,
				fmt.Errorf("%s template %q: %w", p.party, p.m.Name, profile.ErrUnknownTemplate))
		}
	}
	return identify.Result{Caller: caller, Callee: callee}, nil
}

// classify turns a Select error into the SIP answer it deserves. Select's errors name the
// [template-match] expression (and so the party) and the template name, never the whole
// header.
func classify(err error) error {
	switch {
	case errors.Is(err, profile.ErrUnknownTemplate), errors.Is(err, profile.ErrAbstractTemplate):
		return sipstatus.WithReason(StatusUnknownTemplate, ReasonUnknownTemplate, err)
	case errors.Is(err, profile.ErrInvalidValue):
		return sipstatus.WithReason(StatusBadHeader, ReasonBadHeader, err)
	default:
		return sipstatus.New(500, err)
	}
}

var _ identify.Identifier = (*Header)(nil)
