package profile

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"text/template"

	"github.com/sidecar-voip/sidecar/internal/dialect"
	"github.com/sidecar-voip/sidecar/internal/safetmpl"
	"github.com/sidecar-voip/sidecar/internal/suggest"
	"github.com/sidecar-voip/sidecar/request"
)

// op is one compiled template line that runs per request.
type op struct {
	kind kind
	key  string // canonical (lower-case) key
	pos  dialect.Pos
	val  safetmpl.Value
}

// tmpl is one compiled template: the profile its literal lines produce, and the lines that
// must run per request.
type tmpl struct {
	name     string
	abstract bool
	pos      dialect.Pos // where [name] was first written
	// base is the profile of the literal lines (defaults applied). Build copies it.
	base Profile
	// ops are the lines that run per request, in line order: the templated scalars (only the
	// last line of each key matters), and every line of the codec and set-var groups when one
	// of the group's lines is templated.
	ops []op
	// dynCodecs is true when the codec list is computed per request; lastCodec is then the
	// codec line errors about the whole list point at.
	dynCodecs bool
	lastCodec op
	// contextPos is where base.Context (a literal context) was written.
	contextPos dialect.Pos
}

// compiler holds the state of one Compile.
type compiler struct {
	doc   *dialect.Doc
	funcs template.FuncMap
	errs  dialect.Errors
	warns dialect.Errors
	seen  map[string]bool
}

func newCompiler(doc *dialect.Doc) *compiler {
	funcs := safetmpl.Funcs()
	return &compiler{doc: doc, funcs: funcs, seen: make(map[string]bool)}
}

func (c *compiler) errorf(pos dialect.Pos, format string, args ...any) {
	e := &dialect.Error{Pos: pos, Msg: fmt.Sprintf(format, args...)}
	if k := "e" + e.Error(); !c.seen[k] {
		c.seen[k] = true
		c.errs = append(c.errs, e)
	}
}

func (c *compiler) warnf(pos dialect.Pos, format string, args ...any) {
	e := &dialect.Error{Pos: pos, Msg: fmt.Sprintf(format, args...)}
	if k := "w" + e.Error(); !c.seen[k] {
		c.seen[k] = true
		c.warns = append(c.warns, e)
	}
}

func (c *compiler) compile() *Set {
	s := &Set{byName: make(map[string]*tmpl)}
	var matchSec *dialect.Section
	for _, sec := range c.doc.Sections {
		if sec.Name == MatchSection {
			matchSec = sec
			continue
		}
		if _, dup := s.byName[sec.Name]; dup {
			continue // the parser reports or merges duplicates
		}
		if err := checkToken(sec.Name, maxNameLen, "-_.", "template name"); err != nil || sec.Name == "" {
			c.warnf(sec.Pos, "template [%s] can never be selected: names use letters, digits and -_. (at most %d bytes)", sec.Name, maxNameLen)
		}
		t := c.compileTemplate(sec)
		s.byName[sec.Name] = t
		if !t.abstract {
			s.names = append(s.names, t.name)
		}
	}
	slices.Sort(s.names)
	c.compileMatch(s, matchSec)
	// Abstract templates too: a typo in a template nothing inherits yet is still a typo.
	for _, sec := range c.doc.Sections {
		if t := s.byName[sec.Name]; t != nil {
			c.dryRun(t)
		}
	}
	return s
}

// compileTemplate compiles one section. Errors in inherited lines point at the parent's line;
// they are reported once however many children inherit them.
func (c *compiler) compileTemplate(sec *dialect.Section) *tmpl {
	t := &tmpl{name: sec.Name, abstract: sec.Abstract, pos: sec.Pos}
	type line struct {
		op
		ok bool
	}
	lines := make([]line, 0, len(sec.Lines))
	last := make(map[string]int) // scalar key -> index of its last line
	codecDyn, varDyn := false, false
	for _, l := range sec.Lines {
		k, key, err := lookupKey(l.Key)
		if err != nil {
			c.errorf(l.Pos, "%v", err)
			lines = append(lines, line{})
			continue
		}
		v, err := safetmpl.CompileFor(l.Pos.String(), l.Value, c.funcs, DataAccessors)
		if err != nil {
			c.errorf(l.Pos, "%s: %s%s", key, cleanTemplateErr(err), semicolonHint(l.Value))
			lines = append(lines, line{})
			continue
		}
		o := op{kind: k, key: key, pos: l.Pos, val: v}
		ok := true
		if v.IsLiteral() {
			if err := checkLiteral(k, key, l.Value); err != nil {
				c.errorf(l.Pos, "%s: %v", key, err)
				ok = false
			}
		}
		switch {
		case k.codec():
			codecDyn = codecDyn || !v.IsLiteral()
		case k == kSetVar:
			varDyn = varDyn || !v.IsLiteral()
		default:
			last[key] = len(lines)
		}
		lines = append(lines, line{op: o, ok: ok})
	}

	b := builder{p: &t.base}
	t.base.Language, t.base.DTMFMode = defaultLanguage, DTMFRFC4733
	var lastCodec *op
	for i, l := range lines {
		if !l.ok {
			continue
		}
		group := l.kind.codec() || l.kind == kSetVar
		if !group && last[l.key] != i {
			continue // an earlier line of a scalar key: the last one wins
		}
		if l.kind.codec() {
			lastCodec = &lines[i].op
		}
		dyn := !l.val.IsLiteral() || l.kind.codec() && codecDyn || l.kind == kSetVar && varDyn
		if dyn {
			t.ops = append(t.ops, l.op)
			continue
		}
		_ = b.apply(l.kind, l.key, l.val.Text()) // checked by checkLiteral
		if l.kind == kContext {
			t.contextPos = l.pos
		}
	}
	t.dynCodecs = codecDyn
	if lastCodec != nil {
		t.lastCodec = *lastCodec
	}
	if !codecDyn {
		if err := b.finish(); err != nil {
			c.errorf(lastCodec.pos, "%s: %v", lastCodec.key, err)
		}
	}
	return t
}

// checkLiteral validates a literal value of a key on a scratch profile.
func checkLiteral(k kind, key, value string) error {
	if len(value) > k.maxLen() {
		return fmt.Errorf("value longer than %d bytes", k.maxLen())
	}
	b := builder{p: &Profile{}}
	return b.apply(k, key, value)
}

// cleanTemplateErr turns a safetmpl compile error into a message that reads well after
// "file:line: key: ", dropping text/template's line number within a one-line value.
func cleanTemplateErr(err error) string {
	s := err.Error()
	if rest, ok := strings.CutPrefix(s, "parse template: "); ok {
		if i := strings.Index(rest, ": "); i > 0 && strings.Trim(rest[:i], "0123456789:") == "" {
			rest = rest[i+2:]
		}
		return "template syntax: " + rest
	}
	return s
}

// semicolonHint explains the usual cause of a value cut inside an action: ";" starts a
// comment in these files.
func semicolonHint(value string) string {
	if strings.Count(value, "{{") > strings.Count(value, "}}") {
		return ` (if the value had a ";", it started a comment: write \; for a literal semicolon)`
	}
	return ""
}

// compileMatch compiles [template-match], defaulting each missing key.
func (c *compiler) compileMatch(s *Set, sec *dialect.Section) {
	s.match[0] = matcher{key: keyAsCaller, val: mustCompile(keyAsCaller, defaultAsCaller, c.funcs)}
	s.match[1] = matcher{key: keyAsCallee, val: mustCompile(keyAsCallee, defaultAsCallee, c.funcs)}
	if sec == nil {
		return
	}
	if sec.Abstract || len(sec.Parents) > 0 {
		c.errorf(sec.Pos, "[%s] takes no (!) or parents", MatchSection)
	}
	for _, l := range sec.Lines {
		i := -1
		switch key := strings.ToLower(l.Key); key {
		case keyAsCaller:
			i = 0
		case keyAsCallee:
			i = 1
		default:
			msg := fmt.Sprintf("unknown key %q in [%s]", l.Key, MatchSection)
			if d1, d2 := suggest.Distance(key, keyAsCaller), suggest.Distance(key, keyAsCallee); d1 <= 3 || d2 <= 3 {
				msg += fmt.Sprintf(" (did you mean %q?)", map[bool]string{true: keyAsCaller, false: keyAsCallee}[d1 <= d2])
			} else {
				msg += fmt.Sprintf(" (keys: %s, %s)", keyAsCaller, keyAsCallee)
			}
			c.errorf(l.Pos, "%s", msg)
			continue
		}
		v, err := safetmpl.CompileFor(l.Pos.String(), l.Value, c.funcs, DataAccessors)
		if err != nil {
			c.errorf(l.Pos, "%s: %s%s", s.match[i].key, cleanTemplateErr(err), semicolonHint(l.Value))
			continue
		}
		s.match[i] = matcher{key: s.match[i].key, pos: l.Pos, val: v}
		if v.IsLiteral() {
			m, err := ParseSelection(v.Text())
			if err == nil && m.Name != "" {
				err = s.usable(m.Name)
			}
			if err != nil {
				c.errorf(l.Pos, "%s: %v", s.match[i].key, err)
			}
		}
	}
	if len(c.errs) > 0 {
		return
	}
	sample := request.Sample()
	for i := range s.match {
		mt := &s.match[i]
		if mt.pos.File == "" {
			continue // a built-in default
		}
		role := []Role{RoleCaller, RoleCallee}[i]
		text, err := mt.val.Execute(NewData(sample, "", nil, role), maxSelection)
		pos := mt.pos
		if err != nil {
			err = cleanExecErr(err)
			if dataDependent(err) {
				c.warnf(pos, "%s: with the sample request: %v", mt.key, err)
			} else {
				c.errorf(pos, "%s: %v", mt.key, err)
			}
			continue
		}
		// Which template the sample selects says nothing about real requests: only a
		// malformed selection is worth a warning.
		if _, err := ParseSelection(text); err != nil && !mt.val.IsLiteral() {
			c.warnf(pos, "%s: with the sample request: %v", mt.key, err)
		}
	}
}

func mustCompile(name, text string, funcs template.FuncMap) safetmpl.Value {
	v, err := safetmpl.CompileFor(name, text, funcs, DataAccessors)
	if err != nil {
		panic(fmt.Sprintf("profile: built-in expression %s: %v", name, err))
	}
	return v
}

// dryRun expands every per-request value of a concrete template for both roles over
// request.Sample: an expansion error that does not depend on the data (an unknown field such as
// .Form.User, a bad function call) is a load error; a value that fails with the sample's data
// is a warning (naming the role when only one role fails). Every value is tried, so every typo
// is reported at once.
func (c *compiler) dryRun(t *tmpl) {
	type warning struct {
		pos dialect.Pos
		msg string
	}
	var warns [2][]warning
	sample := request.Sample()
	for ri, role := range []Role{RoleCaller, RoleCallee} {
		h := "X-Caller-Template"
		if role == RoleCallee {
			h = "X-Callee-Template"
		}
		m, _ := ParseSelection(sample.Header(h))
		data := NewData(sample, t.name, m.Params, role)
		b := builder{p: &Profile{}, codecSet: t.dynCodecs}
		codecsOK := true
		warn := func(o *op, err error) {
			warns[ri] = append(warns[ri], warning{o.pos, fmt.Sprintf("template %q, %s: %v", t.name, o.key, err)})
			codecsOK = codecsOK && !o.kind.codec()
		}
		for i := range t.ops {
			o := &t.ops[i]
			value := o.val.Text()
			if !o.val.IsLiteral() {
				var err error
				if value, err = o.val.Execute(data, o.kind.maxLen()); err != nil {
					if err = cleanExecErr(err); dataDependent(err) {
						warn(o, err)
					} else {
						c.errorf(o.pos, "%s: %v", o.key, err)
						codecsOK = codecsOK && !o.kind.codec()
					}
					continue
				}
			}
			if err := b.apply(o.kind, o.key, value); err != nil {
				warn(o, err)
			}
		}
		if t.dynCodecs && codecsOK {
			if err := b.finish(); err != nil {
				warn(&t.lastCodec, err)
			}
		}
	}
	for ri, ws := range warns {
		for _, w := range ws {
			if slices.Contains(warns[1-ri], w) {
				if ri == 0 {
					c.warnf(w.pos, "with the sample request: %s", w.msg)
				}
				continue
			}
			c.warnf(w.pos, "with the sample request as %s: %s", []Role{RoleCaller, RoleCallee}[ri], w.msg)
		}
	}
}

var executing = regexp.MustCompile(`^execute template: (?:\d+:\d+: )?executing "[^"]*" at `)

// cleanExecErr drops text/template's noise from an expansion error: "execute template: 1:10:
// executing "file:line" at <.Params.user>: map has no entry for key "user"" becomes
// "expand: at <.Params.user>: map has no entry for key "user"". The cause stays wrapped.
func cleanExecErr(err error) error {
	s := err.Error()
	if loc := executing.FindStringIndex(s); loc != nil {
		return &cleanErr{msg: "expand: at " + s[loc[1]:], err: err}
	}
	return err
}

type cleanErr struct {
	msg string
	err error
}

func (e *cleanErr) Error() string { return e.msg }
func (e *cleanErr) Unwrap() error { return e.err }

// dataDependent reports whether an expansion error may come from the request's data rather
// than from the template text: a function that failed on its arguments (required, fail, ...)
// or an expansion that grew too long.
func dataDependent(err error) bool {
	return errors.Is(err, safetmpl.ErrTooLong) || strings.Contains(err.Error(), "error calling ")
}
