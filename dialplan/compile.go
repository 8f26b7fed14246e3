package dialplan

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"text/template"

	"github.com/sidecar-voip/sidecar/internal/dialect"
	"github.com/sidecar-voip/sidecar/internal/safetmpl"
	"github.com/sidecar-voip/sidecar/profile"
	"github.com/sidecar-voip/sidecar/request"
)

// FileName is the dialplan's file in a template directory.
const FileName = "extensions.conf"

// MaxPriority is the largest priority number accepted.
const MaxPriority = 99999

// Plan is a compiled dialplan: contexts of extensions, ready to run calls. It is immutable and
// safe for concurrent use.
type Plan struct {
	contexts map[string]*contextDef
	order    []*contextDef // definition order
	warnings []*dialect.Error
}

// Warnings returns the dialect's warnings about the dialplan files (problems that do not stop
// loading), for "sidecar check".
func (p *Plan) Warnings() []*dialect.Error { return p.warnings }

// contextDef is one [context].
type contextDef struct {
	name     string
	pos      dialect.Pos
	exts     []*extension // in match order after Compile
	byText   map[string]*extension
	includes []*contextDef
	incPos   []dialect.Pos
	incNames []string
}

// extension is one extension (pattern) of a context with its priorities.
type extension struct {
	pat     Pattern
	ctx     *contextDef
	pos     dialect.Pos
	order   int
	steps   []*step // sorted by priority after Compile
	byPrio  map[int]*step
	byLabel map[string]*step
	last    int // last priority defined, for "n"
}

// Step is one priority of an extension as written, for listings ("sidecar render").
type Step struct {
	Priority int
	Label    string   // "" when none
	App      string   // the application's registered name
	Args     []string // unexpanded arguments, after splitting
	Pos      dialect.Pos
}

// String formats the step as "priority(label): App(arg1,arg2)".
func (s Step) String() string {
	p := strconv.Itoa(s.Priority)
	if s.Label != "" {
		p += "(" + s.Label + ")"
	}
	return p + ": " + formatCall(s.App, s.Args)
}

// step is a compiled Step.
type step struct {
	Step
	app  *App
	vals []safetmpl.Value
	ext  *extension
}

// CompileError is one problem in the dialplan files at a position.
type CompileError struct {
	Pos dialect.Pos
	Err error
}

// Error formats the problem as "file:line: message".
func (e *CompileError) Error() string { return e.Pos.String() + ": " + e.Err.Error() }

// Unwrap returns the underlying error (for errors.Is with ErrUnknownApp).
func (e *CompileError) Unwrap() error { return e.Err }

// Errors is every problem Compile found, in file order, one "file:line: message" per line.
type Errors []*CompileError

// Error joins the problems one per line.
func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap returns the problems, so errors.Is and errors.As see each of them.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// LoadFS loads dir/extensions.conf (and what it includes) from fsys and compiles it. A missing
// file gives an empty Plan, not an error; dialect errors are returned as dialect.Errors.
func LoadFS(fsys fs.FS, dir string, reg *Registry) (*Plan, error) {
	name := path.Join(dir, FileName)
	if _, err := fs.Stat(fsys, name); errors.Is(err, fs.ErrNotExist) {
		return &Plan{contexts: map[string]*contextDef{}}, nil
	}
	doc, err := dialect.Load(fsys, name)
	if err != nil {
		return nil, err
	}
	return Compile(doc, reg)
}

// compiler holds the state of one Compile.
type compiler struct {
	plan   *Plan
	reg    *Registry
	funcs  template.FuncMap
	errs   Errors
	seen   map[string]bool // deduplicates errors of lines inherited by several contexts
	sample *Data
	order  int
}

func (c *compiler) errorf(pos dialect.Pos, err error) {
	key := pos.String() + "\x00" + err.Error()
	if c.seen[key] {
		return
	}
	c.seen[key] = true
	c.errs = append(c.errs, &CompileError{Pos: pos, Err: err})
}

// Compile builds a Plan from a loaded document: every non-abstract section is a context.
// It returns every problem found as Errors.
func Compile(doc *dialect.Doc, reg *Registry) (*Plan, error) {
	c := &compiler{
		plan:  &Plan{contexts: make(map[string]*contextDef), warnings: doc.Warnings},
		reg:   reg,
		funcs: safetmpl.Funcs(),
		seen:  make(map[string]bool),
	}
	empty := &profile.Profile{}
	c.sample = &Data{Request: request.Sample(), Caller: empty, Callee: empty, call: &Call{}}
	for _, s := range doc.Sections {
		if s.Abstract {
			continue
		}
		if _, dup := c.plan.contexts[s.Name]; dup {
			c.errorf(s.Pos, fmt.Errorf("duplicate context %q", s.Name))
			continue
		}
		cd := &contextDef{name: s.Name, pos: s.Pos, byText: make(map[string]*extension)}
		c.plan.contexts[s.Name] = cd
		c.plan.order = append(c.plan.order, cd)
	}
	for _, s := range doc.Sections {
		if cd := c.plan.contexts[s.Name]; cd != nil && !s.Abstract && cd.pos == s.Pos {
			c.section(cd, s)
		}
	}
	for _, cd := range c.plan.order {
		for i, name := range cd.incNames {
			inc := c.plan.contexts[name]
			if inc == nil {
				c.errorf(cd.incPos[i], fmt.Errorf("include of unknown context %q", name))
				continue
			}
			cd.includes = append(cd.includes, inc)
		}
		sort.SliceStable(cd.exts, func(i, j int) bool { return Compare(cd.exts[i].pat, cd.exts[j].pat) < 0 })
		for _, e := range cd.exts {
			sort.Slice(e.steps, func(i, j int) bool { return e.steps[i].Priority < e.steps[j].Priority })
		}
	}
	// Static checks that need the whole plan (Goto targets).
	for _, cd := range c.plan.order {
		for _, e := range cd.exts {
			for _, st := range e.steps {
				if st.app.checkPlan == nil {
					continue
				}
				lit := make([]bool, len(st.vals))
				for i, v := range st.vals {
					lit[i] = v.IsLiteral()
				}
				if err := st.app.checkPlan(c.plan, e, st.Args, lit); err != nil {
					c.errorf(st.Pos, err)
				}
			}
		}
	}
	if len(c.errs) > 0 {
		sort.SliceStable(c.errs, func(i, j int) bool { return posLess(doc, c.errs[i].Pos, c.errs[j].Pos) })
		return nil, c.errs
	}
	return c.plan, nil
}

// posLess orders positions by file read order, then line.
func posLess(doc *dialect.Doc, a, b dialect.Pos) bool {
	if a.File != b.File {
		return fileIndex(doc, a.File) < fileIndex(doc, b.File)
	}
	return a.Line < b.Line
}

func fileIndex(doc *dialect.Doc, f string) int {
	for i, n := range doc.Files {
		if n == f {
			return i
		}
	}
	return len(doc.Files)
}

// section compiles the lines of one context.
func (c *compiler) section(cd *contextDef, s *dialect.Section) {
	var cur *extension
	for _, l := range s.Lines {
		switch strings.ToLower(l.Key) {
		case "exten":
			pat, rest, ok := strings.Cut(l.Value, ",")
			if !ok {
				c.errorf(l.Pos, errors.New(`bad exten line: want "exten => PATTERN,PRIORITY,App(arguments)"`))
				cur = detached(cd, pat, l.Pos)
				continue
			}
			p, err := ParsePattern(strings.TrimSpace(pat))
			if err != nil {
				c.errorf(l.Pos, fmt.Errorf("bad pattern %q: %w", strings.TrimSpace(pat), err))
				// Following "same" lines are still checked, against an extension that is
				// not part of the plan, so one typo does not hide or cause other errors.
				cur = detached(cd, pat, l.Pos)
				c.priorityLine(cur, rest, l.Pos, "exten")
				continue
			}
			cur = cd.byText[p.text]
			if cur == nil {
				c.order++
				cur = &extension{pat: p, ctx: cd, pos: l.Pos, order: c.order,
					byPrio: make(map[int]*step), byLabel: make(map[string]*step)}
				cd.byText[p.text] = cur
				cd.exts = append(cd.exts, cur)
			}
			c.priorityLine(cur, rest, l.Pos, "exten")
		case "same":
			if cur == nil {
				c.errorf(l.Pos, errors.New("same without a preceding exten"))
				continue
			}
			c.priorityLine(cur, l.Value, l.Pos, "same")
		case "include":
			name := strings.TrimSpace(l.Value)
			if name == "" {
				c.errorf(l.Pos, errors.New("include without a context name"))
				continue
			}
			cd.incNames = append(cd.incNames, name)
			cd.incPos = append(cd.incPos, l.Pos)
		default:
			c.errorf(l.Pos, fmt.Errorf("unknown key %q (want exten, same or include)", l.Key))
		}
	}
}

// detached returns an extension that belongs to no context, for lines after a bad exten.
func detached(cd *contextDef, text string, pos dialect.Pos) *extension {
	return &extension{pat: Pattern{text: strings.TrimSpace(text)}, ctx: cd, pos: pos,
		byPrio: make(map[int]*step), byLabel: make(map[string]*step)}
}

var labelName = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_-]*$`)

// priorityLine compiles "PRIORITY[(label)],App(arguments)" into e.
func (c *compiler) priorityLine(e *extension, text string, pos dialect.Pos, key string) {
	prio, call, ok := strings.Cut(text, ",")
	if !ok {
		want := `"exten => PATTERN,PRIORITY,App(arguments)"`
		if key == "same" {
			want = `"same => PRIORITY,App(arguments)"`
		}
		c.errorf(pos, fmt.Errorf("bad %s line: want %s", key, want))
		return
	}
	n, label, err := parsePriority(strings.TrimSpace(prio), e)
	if err != nil {
		c.errorf(pos, err)
		return
	}
	if prev := e.byPrio[n]; prev != nil {
		c.errorf(pos, fmt.Errorf("duplicate priority %d for extension %q (first at %s)", n, e.pat.text, prev.Pos))
		return
	}
	if label != "" {
		if prev := e.byLabel[label]; prev != nil {
			c.errorf(pos, fmt.Errorf("duplicate label %q for extension %q (first at %s)", label, e.pat.text, prev.Pos))
			return
		}
	}
	// From here on the priority is taken, even if the application is bad, so following "n"
	// lines number as the operator expects and report their own problems.
	e.last = n
	st := &step{Step: Step{Priority: n, Label: label, Pos: pos}, ext: e}
	name, raw, err := parseAppCall(call)
	if err != nil {
		c.errorf(pos, err)
		return
	}
	app, ok := c.reg.Lookup(name)
	if !ok {
		c.errorf(pos, c.reg.unknownApp(name))
		return
	}
	st.app, st.App = app, app.Name
	split := app.split
	if split == nil {
		split = splitArgs
	}
	args, err := split(raw)
	if err != nil {
		c.errorf(pos, err)
		return
	}
	if len(args) < app.MinArgs || (app.MaxArgs >= 0 && len(args) > app.MaxArgs) {
		c.errorf(pos, app.argCountError(len(args)))
		return
	}
	st.Args = args
	st.vals = make([]safetmpl.Value, len(args))
	bad := false
	for i, a := range args {
		v, err := safetmpl.CompileFor(pos.String(), a, c.funcs, dataAccessors)
		if err == nil {
			err = c.dryRun(v, e)
		}
		if err != nil {
			c.errorf(pos, fmt.Errorf("argument %d of %s: %w", i+1, app.Name, err))
			bad = true
			continue
		}
		st.vals[i] = v
	}
	if bad {
		return
	}
	if app.Check != nil {
		lit := make([]bool, len(st.vals))
		for i, v := range st.vals {
			lit[i] = v.IsLiteral()
		}
		if err := app.Check(args, lit); err != nil {
			c.errorf(pos, err)
		}
	}
	e.byPrio[n] = st
	if label != "" {
		e.byLabel[label] = st
	}
	e.steps = append(e.steps, st)
}

// dryRun executes v against the sample request with empty profiles. Errors that depend on
// data the sample cannot have (a map key, a function refusing sample input) are not reported:
// the point is to catch misspelt fields.
func (c *compiler) dryRun(v safetmpl.Value, e *extension) error {
	if v.IsLiteral() {
		return nil
	}
	c.sample.Context, c.sample.Exten = e.ctx.name, c.sample.Request.RURI.User
	_, err := v.Execute(c.sample, 0)
	if err == nil || errors.Is(err, safetmpl.ErrTooLong) {
		return nil
	}
	msg := err.Error()
	if strings.Contains(msg, "map has no entry for key") || strings.Contains(msg, "error calling") {
		return nil
	}
	return err
}

// parsePriority parses "1", "n", "1(label)" or "n(label)".
func parsePriority(s string, e *extension) (int, string, error) {
	num, label := s, ""
	if open := strings.IndexByte(s, '('); open >= 0 {
		if !strings.HasSuffix(s, ")") {
			return 0, "", fmt.Errorf("bad priority %q: unclosed (", s)
		}
		num, label = strings.TrimSpace(s[:open]), strings.TrimSpace(s[open+1:len(s)-1])
		if !labelName.MatchString(label) {
			return 0, "", fmt.Errorf("bad label %q in priority %q", label, s)
		}
		if _, err := strconv.Atoi(label); err == nil {
			return 0, "", fmt.Errorf("bad label %q in priority %q: a label must not be a number", label, s)
		}
	}
	if num == "n" {
		if e.last == 0 {
			return 0, "", fmt.Errorf("priority n for extension %q with no previous priority", e.pat.text)
		}
		if e.last >= MaxPriority {
			return 0, "", fmt.Errorf("priority n for extension %q: more than %d priorities", e.pat.text, MaxPriority)
		}
		return e.last + 1, label, nil
	}
	n, err := strconv.Atoi(num)
	if err != nil || n < 1 || n > MaxPriority {
		return 0, "", fmt.Errorf("bad priority %q: want a number from 1 to %d or n, optionally with (label)", s, MaxPriority)
	}
	return n, label, nil
}
