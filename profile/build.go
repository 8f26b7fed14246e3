package profile

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/sidecar-voip/sidecar/request"
)

// Build builds the profile of one party of a call from the template m names, over req. role
// is what templates see as .Role. It fails with ErrUnknownTemplate or ErrAbstractTemplate when
// m does not name a concrete template (an empty name included), and with a *FieldError (which
// matches ErrInvalidValue) naming the template, the key and its file:line when a value fails
// to expand or to validate. Build only executes precompiled values; it is safe to call
// concurrently.
func (s *Set) Build(m Match, role Role, req *request.Request) (*Profile, error) {
	if !role.valid() {
		return nil, fmt.Errorf("build profile: role %q is neither %q nor %q", role, RoleCaller, RoleCallee)
	}
	if req == nil {
		return nil, fmt.Errorf("build profile: nil request")
	}
	if m.Name == "" {
		return nil, fmt.Errorf("build profile: %w: no template named", ErrUnknownTemplate)
	}
	if err := s.usable(m.Name); err != nil {
		return nil, fmt.Errorf("build profile: %w", err)
	}
	p, err := s.build(s.byName[m.Name], m, role, req)
	if err != nil {
		return nil, fmt.Errorf("build profile: %w", err)
	}
	return p, nil
}

func (s *Set) build(t *tmpl, m Match, role Role, req *request.Request) (*Profile, error) {
	p := new(Profile)
	*p = t.base
	p.Template, p.Params = t.name, m.Params
	if !t.dynCodecs { // else finish sets the list built below
		p.Codecs = slices.Clone(t.base.Codecs)
	}
	p.Vars = slices.Clone(t.base.Vars)
	if t.base.Custom != nil {
		p.Custom = maps.Clone(t.base.Custom)
	}
	b := builder{p: p}
	if t.dynCodecs {
		b.codecs, b.codecSet = make([]string, 0, 8), true // room for every known codec
	}
	data := borrowData(req, t.name, m.Params, role)
	defer returnData(data)
	for i := range t.ops {
		o := &t.ops[i]
		value := o.val.Text()
		if !o.val.IsLiteral() {
			var err error
			if value, err = o.val.Execute(data, o.kind.maxLen()); err != nil {
				return nil, &FieldError{Template: t.name, Key: o.key, Pos: o.pos, Err: execErr(o.kind, err)}
			}
		}
		if err := b.apply(o.kind, o.key, value); err != nil {
			return nil, &FieldError{Template: t.name, Key: o.key, Pos: o.pos, Err: err}
		}
	}
	if t.dynCodecs {
		if err := b.finish(); err != nil {
			return nil, &FieldError{Template: t.name, Key: t.lastCodec.key, Pos: t.lastCodec.pos, Err: err}
		}
	}
	return p, nil
}

// execErr is the error of a failed expansion, cleaned. For the mailbox PIN only the failing
// action, as written in the template, is kept ("expand: at <fail "...">: error calling fail"):
// what the function said may quote its arguments, and so the PIN or the data it came from.
func execErr(k kind, err error) error {
	c := cleanExecErr(err)
	if k != kMailboxPIN {
		return c
	}
	msg := "expand: failed"
	if ce, ok := c.(*cleanErr); ok {
		msg = ce.msg
		if i := strings.Index(msg, "error calling "); i >= 0 {
			name, _, _ := strings.Cut(msg[i+len("error calling "):], ":")
			msg = msg[:i] + "error calling " + name
		} else if i := strings.Index(msg, ">: "); i >= 0 {
			msg = msg[:i+1] + ": failed"
		} else {
			msg = "expand: failed"
		}
	}
	return &cleanErr{msg: msg + " (details hidden: mailbox-pin is a secret)", err: err}
}
