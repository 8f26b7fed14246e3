// Package dialect parses the Asterisk configuration dialect the sidecar's template and dialplan
// files are written in: [sections], (!) abstract templates, (a,b) inheritance, (+) additions,
// "=", "=>" and "+=" lines, ; comments, ;-- block comments --;, #include and #tryinclude.
//
// It knows nothing about what keys mean: package profile and package dialplan give them meaning.
// Parsing reads every file first and resolves inheritance afterwards, so a parent may be defined
// after its children or in another file. docs/dialect.md is the syntax reference, with every
// error and warning and the differences from Asterisk.
package dialect

import "fmt"

// Pos is a place in a source file.
type Pos struct {
	File string // path as given to Load, joined with include paths
	Line int    // 1-based
}

// String formats the position as "file:line".
func (p Pos) String() string { return fmt.Sprintf("%s:%d", p.File, p.Line) }

// Op is how a line assigns its value.
type Op int

const (
	// OpSet is "key = value".
	OpSet Op = iota
	// OpArrow is "key => value" (same meaning as OpSet; kept for dialplan-style files).
	OpArrow
	// OpAppend is "key += value": in a resolved section it has been folded into the previous
	// line with that key (or became OpSet when there was none).
	OpAppend
)

// Line is one key/value line of a section.
type Line struct {
	Key   string // as written, trimmed
	Value string // trimmed, comments removed, "\;" unescaped to ";"
	Op    Op
	Pos   Pos // where the line (or, after "+=" folding, its first part) was written
	// From is the section the line was inherited from, "" for the section's own lines.
	From string
}

// Section is one [name] section after resolution.
type Section struct {
	Name     string
	Abstract bool     // [name](!): a template only, never used directly
	Parents  []string // [name](a,b) in the order written
	Pos      Pos      // where [name] was first written
	// Lines are the resolved lines: each parent's resolved lines in order, then the section's
	// own lines (including any (+) additions in load order), with "+=" folded.
	Lines []Line
}

// Values returns the values of every line with the given key, in order.
func (s *Section) Values(key string) []string {
	var out []string
	for _, l := range s.Lines {
		if l.Key == key {
			out = append(out, l.Value)
		}
	}
	return out
}

// Doc is a set of loaded files: all their sections, resolved.
type Doc struct {
	// Sections in the order they were first defined across all files (include order).
	Sections []*Section
	// Files lists every file read, in read order.
	Files []string
	// Warnings are problems that do not stop loading (Asterisk's silent traps).
	Warnings []*Error
	byName   map[string]*Section
}

// Section returns the section with the given name, or nil.
func (d *Doc) Section(name string) *Section { return d.byName[name] }

// Error is a problem at a position in a file.
type Error struct {
	Pos Pos
	Msg string
}

// Error formats the problem as "file:line: message".
func (e *Error) Error() string { return e.Pos.String() + ": " + e.Msg }

// Errors is every error found in one Load, in file order. Load returns it as its error.
type Errors []*Error

// Error joins the errors one per line.
func (es Errors) Error() string {
	s := ""
	for i, e := range es {
		if i > 0 {
			s += "\n"
		}
		s += e.Error()
	}
	return s
}

// Unwrap returns the errors one by one, so errors.As can find the first *Error.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}
