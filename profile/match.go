package profile

import (
	"fmt"
	"strings"

	"github.com/sidecar-voip/sidecar/internal/dialect"
	"github.com/sidecar-voip/sidecar/internal/safetmpl"
	"github.com/sidecar-voip/sidecar/request"
)

// MatchSection is the name of the section whose keys select the templates of a call.
const MatchSection = "template-match"

// The keys of [template-match], and what they default to when absent.
const (
	keyAsCaller     = "template-as-caller"
	keyAsCallee     = "template-as-callee"
	defaultAsCaller = `{{ .Header "X-Caller-Template" }}`
	defaultAsCallee = `{{ .Header "X-Callee-Template" }}`
)

// Bounds on a selection: "name;k=v;k=v".
const (
	maxSelection  = 512
	maxNameLen    = 64
	maxParams     = 16
	maxParamKey   = 32
	maxParamValue = 256
)

// matcher is one compiled [template-match] expression.
type matcher struct {
	key string
	pos dialect.Pos // zero for a built-in default
	val safetmpl.Value
}

// ParseSelection splits the expansion of a [template-match] expression into a Match: the text
// before the first ";" is the template name (trimmed; an expansion that is empty or only
// spaces means no template, while an empty name followed by ";" or parameters is an error),
// the rest is
// ";"-separated k=v parameters (keys lower-cased, values trimmed, a bare key has value "").
// Names use letters, digits and "-_." (at most 64 bytes); at most 16 parameters; keys use
// letters, digits and "-_." (at most 32 bytes); values are at most 256 bytes of text without
// control characters; a repeated key is an error. Failures wrap ErrInvalidValue.
func ParseSelection(s string) (Match, error) {
	if len(s) > maxSelection {
		return Match{}, fmt.Errorf("%w: template selection longer than %d bytes", ErrInvalidValue, maxSelection)
	}
	name, rest, _ := strings.Cut(s, ";")
	name = strings.TrimSpace(name)
	if name == "" {
		if strings.TrimSpace(s) != "" {
			return Match{}, fmt.Errorf("%w: template parameters without a template name", ErrInvalidValue)
		}
		return Match{}, nil
	}
	if err := checkToken(name, maxNameLen, "-_.", "template name"); err != nil {
		return Match{}, fmt.Errorf("%w: %v", ErrInvalidValue, err)
	}
	m := Match{Name: name}
	for part := range strings.SplitSeq(rest, ";") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		k, v = strings.ToLower(strings.TrimSpace(k)), strings.TrimSpace(v)
		if k == "" {
			return Match{}, fmt.Errorf("%w: template parameter %s without a name", ErrInvalidValue, quote(part))
		}
		if err := checkToken(k, maxParamKey, "-_.", "template parameter name"); err != nil {
			return Match{}, fmt.Errorf("%w: %v", ErrInvalidValue, err)
		}
		if err := checkText(v, maxParamValue, ""); err != nil {
			// Checked again for the message only: its label, built on every call, would
			// be an allocation per parameter.
			err = checkText(v, maxParamValue, "template parameter "+k)
			return Match{}, fmt.Errorf("%w: %v", ErrInvalidValue, err)
		}
		if m.Params == nil {
			m.Params = make(map[string]string, 2)
		}
		if _, dup := m.Params[k]; dup {
			return Match{}, fmt.Errorf("%w: template parameter %q given twice", ErrInvalidValue, k)
		}
		if len(m.Params) == maxParams {
			return Match{}, fmt.Errorf("%w: more than %d template parameters", ErrInvalidValue, maxParams)
		}
		m.Params[k] = v
	}
	return m, nil
}

// Select evaluates [template-match] over the request and returns which template builds the
// caller's profile and which builds the callee's, with their parameters. A zero Match means no
// template for that party. A name that is not a concrete template of the Set fails with
// ErrUnknownTemplate or ErrAbstractTemplate; a malformed selection with ErrInvalidValue.
func (s *Set) Select(req *request.Request) (caller, callee Match, err error) {
	caller, err = s.selectRole(RoleCaller, req)
	if err != nil {
		return Match{}, Match{}, err
	}
	callee, err = s.selectRole(RoleCallee, req)
	if err != nil {
		return Match{}, Match{}, err
	}
	return caller, callee, nil
}

func (s *Set) selectRole(role Role, req *request.Request) (Match, error) {
	mt := &s.match[role.index()]
	data := borrowData(req, "", nil, role)
	text, err := mt.val.Execute(data, maxSelection)
	returnData(data)
	if err != nil {
		return Match{}, fmt.Errorf("select template: %s: %w: %w", mt.where(), ErrInvalidValue, cleanExecErr(err))
	}
	m, err := ParseSelection(text)
	if err != nil {
		return Match{}, fmt.Errorf("select template: %s: %w", mt.where(), err)
	}
	if m.Name == "" {
		return m, nil
	}
	if err := s.usable(m.Name); err != nil {
		return Match{}, fmt.Errorf("select template: %s: %w", mt.where(), err)
	}
	return m, nil
}

// where names the expression for errors: "file:line: template-as-caller" or the default.
func (mt *matcher) where() string {
	if mt.pos.File == "" {
		return mt.key + " (default " + mt.val.Text() + ")"
	}
	return mt.pos.String() + ": " + mt.key
}

// usable reports whether name is a concrete template of the Set.
func (s *Set) usable(name string) error {
	t, ok := s.byName[name]
	switch {
	case !ok:
		return fmt.Errorf("%w %q", ErrUnknownTemplate, name)
	case t.abstract:
		return fmt.Errorf("%w %q: declared with (!), it can only be inherited", ErrAbstractTemplate, name)
	}
	return nil
}
