// Package username is the "username" identifier: the From user names the caller's template,
// after an optional prefix ([identify] username-prefix): From user "alice" with prefix "user-"
// selects template "user-alice". When there is no such template, or the From user could not
// be a template name, it passes (identify.ErrNoMatch).
//
// The From user is chosen by the caller. Use a prefix so that only templates written for this
// identifier can be selected; with an empty prefix a caller whose From user is "trunk" gets
// the trunk template.
package username

import (
	"context"
	"errors"

	"github.com/sidecar-voip/sidecar/identify"
	"github.com/sidecar-voip/sidecar/profile"
	"github.com/sidecar-voip/sidecar/request"
)

// Name is the identifier's name in [sip] identify.
const Name = "username"

// maxName is the longest template name (as in package profile).
const maxName = 64

// Username is the username identifier.
type Username struct {
	templates identify.Templates
	prefix    string
}

// New builds the username identifier; it is an identify.Factory.
func New(deps identify.Deps) (identify.Identifier, error) {
	if deps.Templates == nil {
		return nil, errors.New("no templates")
	}
	if !validName(deps.Config.Username + "x") {
		return nil, errors.New("[identify] username-prefix: not a template name prefix (letters, digits and -_. only)")
	}
	return &Username{templates: deps.Templates, prefix: deps.Config.Username}, nil
}

// Name returns "username".
func (u *Username) Name() string { return Name }

// Identify looks for the template named prefix + From user.
func (u *Username) Identify(_ context.Context, req *request.Request) (identify.Result, error) {
	user := req.From.User
	if user == "" {
		return identify.Result{}, identify.ErrNoMatch
	}
	name := u.prefix + user
	if !validName(name) || !u.templates.Has(name) {
		return identify.Result{}, identify.ErrNoMatch
	}
	return identify.Result{Caller: profile.Match{Name: name}}, nil
}

// validName reports whether s could be a template name: 1-64 letters, digits and "-_.".
func validName(s string) bool {
	if s == "" || len(s) > maxName {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

var _ identify.Identifier = (*Username)(nil)
