package profile

import (
	"fmt"
	"io/fs"
	"path"
	"slices"

	"github.com/sidecar-voip/sidecar/internal/dialect"
)

// DialplanFile is the file of a template directory that holds the dialplan, not templates:
// LoadFS skips it.
const DialplanFile = "extensions.conf"

// Set is a compiled set of templates with its [template-match] expressions. It is immutable
// and safe for concurrent use; a reload compiles a new Set.
type Set struct {
	byName   map[string]*tmpl
	names    []string // concrete templates, sorted
	match    [2]matcher
	warnings dialect.Errors
}

// Has reports whether name is a concrete (not abstract) template of the Set.
func (s *Set) Has(name string) bool {
	t, ok := s.byName[name]
	return ok && !t.abstract
}

// Templates returns the names of the concrete templates, sorted.
func (s *Set) Templates() []string { return slices.Clone(s.names) }

// ContextUse is the literal context of a concrete template and where it was written (in the
// template or in the parent it inherits the line from).
type ContextUse struct {
	Template string
	Context  string
	Pos      dialect.Pos
}

// LiteralContexts returns the literal context value of every concrete template that has one,
// in template name order, so that "sidecar check" can compare them with the dialplan. A
// templated context is known per request only and is not listed.
func (s *Set) LiteralContexts() []ContextUse {
	var out []ContextUse
	for _, name := range s.names {
		if t := s.byName[name]; t.base.Context != "" {
			out = append(out, ContextUse{Template: name, Context: t.base.Context, Pos: t.contextPos})
		}
	}
	return out
}

// Warnings returns the problems found while compiling that do not stop the Set from working,
// such as a templated value that fails validation when expanded over request.Sample.
func (s *Set) Warnings() dialect.Errors { return slices.Clone(s.warnings) }

// Compile compiles the templates and [template-match] of a loaded document. On failure the
// error is a dialect.Errors listing every problem as "file:line: message", and the Set is nil.
func Compile(doc *dialect.Doc) (*Set, error) {
	s, errs, _ := Check(doc)
	if len(errs) > 0 {
		return nil, errs
	}
	return s, nil
}

// Check is Compile for tools that report everything: it returns the errors and the warnings
// separately. The Set is nil when there are errors.
func Check(doc *dialect.Doc) (*Set, dialect.Errors, dialect.Errors) {
	if doc == nil {
		return nil, dialect.Errors{{Msg: "compile templates: no document"}}, nil
	}
	c := newCompiler(doc)
	s := c.compile()
	sortErrors(c.errs, doc.Files)
	sortErrors(c.warns, doc.Files)
	if len(c.errs) > 0 {
		return nil, c.errs, c.warns
	}
	s.warnings = c.warns
	return s, nil, c.warns
}

// LoadFS loads every top-level *.conf file of dir in fsys (sorted by name) except
// extensions.conf, following their #include lines, and compiles them. Errors are a
// dialect.Errors with one "file:line: message" per problem.
func LoadFS(fsys fs.FS, dir string) (*Set, error) {
	s, errs, _ := CheckFS(fsys, dir)
	if len(errs) > 0 {
		return nil, errs
	}
	return s, nil
}

// CheckFS is LoadFS for tools that report everything: errors (parse and compile) and warnings
// (the parser's and the compiler's) separately. The Set is nil when there are errors.
func CheckFS(fsys fs.FS, dir string) (*Set, dialect.Errors, dialect.Errors) {
	files, err := TemplateFiles(fsys, dir)
	if err != nil {
		return nil, dialect.Errors{{Pos: dialect.Pos{File: dir}, Msg: err.Error()}}, nil
	}
	s, _, errs, warns := CheckFiles(fsys, files...)
	return s, errs, warns
}

// CheckFiles is CheckFS over an explicit list of files (read in that order, following their
// #include lines), for callers that add files of their own, such as templates pushed over the
// admin API. It also returns the loaded document (nil only when nothing could be read), so
// the caller can tell where each section and line came from.
func CheckFiles(fsys fs.FS, files ...string) (*Set, *dialect.Doc, dialect.Errors, dialect.Errors) {
	doc, err := dialect.Load(fsys, files...)
	var errs dialect.Errors
	if err != nil {
		if es, ok := err.(dialect.Errors); ok {
			errs = es
		} else {
			errs = dialect.Errors{{Msg: err.Error()}}
		}
	}
	if doc == nil {
		return nil, nil, errs, nil
	}
	s, cerrs, warns := Check(doc)
	warns = append(slices.Clone(doc.Warnings), warns...)
	sortErrors(warns, doc.Files)
	if errs = append(errs, cerrs...); len(errs) > 0 {
		sortErrors(errs, doc.Files)
		return nil, doc, dedupe(errs), warns
	}
	s.warnings = warns
	return s, doc, nil, warns
}

// TemplateFiles lists the top-level *.conf files of dir in fsys, sorted, without
// extensions.conf. It fails when there is none.
func TemplateFiles(fsys fs.FS, dir string) ([]string, error) {
	matches, err := fs.Glob(fsys, path.Join(dir, "*.conf"))
	if err != nil {
		return nil, fmt.Errorf("list templates: %w", err)
	}
	var files []string
	for _, m := range matches {
		if path.Base(m) == DialplanFile {
			continue
		}
		if fi, err := fs.Stat(fsys, m); err == nil && fi.IsDir() {
			continue
		}
		files = append(files, m)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("list templates: no *.conf template file in %s", dir)
	}
	slices.Sort(files)
	return files, nil
}

// sortErrors orders errors by file (in the order files were read) then line.
func sortErrors(es dialect.Errors, files []string) {
	rank := func(f string) int {
		if i := slices.Index(files, f); i >= 0 {
			return i
		}
		return len(files)
	}
	slices.SortStableFunc(es, func(a, b *dialect.Error) int {
		if ra, rb := rank(a.Pos.File), rank(b.Pos.File); ra != rb {
			return ra - rb
		}
		return a.Pos.Line - b.Pos.Line
	})
}

func dedupe(es dialect.Errors) dialect.Errors {
	seen := make(map[string]bool, len(es))
	out := es[:0]
	for _, e := range es {
		if k := e.Error(); !seen[k] {
			seen[k] = true
			out = append(out, e)
		}
	}
	return out
}
