package dialect

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"
)

// MaxIncludeDepth is how deeply #include may nest before Load reports an error. A file given to
// Load is at depth 0, a file it includes at depth 1, and so on.
const MaxIncludeDepth = 10

// Bounds on what one Load reads and builds, so hostile or broken input cannot exhaust memory.
const (
	// MaxInputBytes is the most bytes Load reads across all files.
	MaxInputBytes = 4 << 20
	// MaxInputLines is the most lines Load reads across all files.
	MaxInputLines = 100_000
	// MaxFiles is the most files Load reads.
	MaxFiles = 1000
	// MaxSectionLines is the most resolved lines one section may have after inheritance.
	MaxSectionLines = 10_000
	// MaxTotalLines is the most resolved lines all sections together may have.
	MaxTotalLines = 200_000
	// maxFoldBytes bounds the bytes built by "+=" concatenation in one Load.
	maxFoldBytes = 16 << 20
)

// Load reads the named files from fsys (paths use forward slashes, as in io/fs), following
// #include and #tryinclude relative to the including file, then resolves inheritance.
// On failure the error is Errors, listing every problem found with its file:line; the Doc is
// still returned with what could be resolved (useful for "sidecar check" to report more).
//
// Every file is read at most once: a file reached a second time (listed twice, or listed and
// also included) is skipped silently; a file that includes itself, directly or not, is an
// include cycle. Paths are cleaned (path.Clean), and positions use the cleaned paths. Errors
// about a file given to Load itself (unreadable, too large) carry line 0. Warnings never make
// Load fail. docs/dialect.md describes the syntax, every error and every warning.
func Load(fsys fs.FS, files ...string) (*Doc, error) {
	l := &loader{
		fsys:      fsys,
		doc:       &Doc{byName: map[string]*Section{}},
		sections:  map[string]*rawSection{},
		read:      map[string]reachInfo{},
		fileOrder: map[string]int{},
	}
	for _, f := range files {
		name := path.Clean(f)
		top := Pos{File: name}
		if !fs.ValidPath(name) {
			l.errorf(top, "invalid path %q (use a slash-separated path relative to the file system root)", f)
			continue
		}
		l.reach(name, top, nil, false)
	}
	l.resolve()
	l.sortProblems()
	l.doc.Warnings = l.warns
	if len(l.errs) > 0 {
		return l.doc, l.errs
	}
	return l.doc, nil
}

// loader holds the state of one Load.
type loader struct {
	fsys      fs.FS
	doc       *Doc
	errs      Errors
	warns     []*Error
	sections  map[string]*rawSection // defined sections by name (not (+) blocks)
	order     []*rawSection          // defined sections in definition order
	adds      []*rawSection          // [name](+) blocks in load order
	read      map[string]reachInfo   // files already read, and where from
	fileOrder map[string]int         // file -> order of first reach, for sorting problems
	stack     []string               // files being read, outermost first
	bytes     int
	lines     int
	// resolution budgets
	total     int
	overTotal bool
	foldBytes int
	overFold  bool
}

// reachInfo records where a file was first read from.
type reachInfo struct {
	at      Pos    // the #include line, or file:0 for a file given to Load
	section string // the section open at that #include, "" if none
}

// rawSection is a section (or a (+) block) as parsed, before resolution.
type rawSection struct {
	name     string
	abstract bool
	parents  []string
	pos      Pos
	lines    []Line // own lines, with "+=" not yet folded
	add      bool   // a [name](+) block
	discard  bool   // a header in error: lines are checked, then dropped
	children int    // how many sections list this one as a parent
	state    int    // resolution state: unvisited, active, done
	resolved []Line
}

func (l *loader) errorf(p Pos, format string, args ...any) {
	l.errs = append(l.errs, &Error{Pos: p, Msg: fmt.Sprintf(format, args...)})
}

func (l *loader) warnf(p Pos, format string, args ...any) {
	l.warns = append(l.warns, &Error{Pos: p, Msg: fmt.Sprintf(format, args...)})
}

// reach reads the file name, reached from at (line 0 for a file given to Load), inlining its
// lines into the section cur. via is the include directive text used in messages.
func (l *loader) reach(name string, at Pos, cur *rawSection, skipDirs bool) {
	if _, ok := l.fileOrder[name]; !ok {
		l.fileOrder[name] = len(l.fileOrder)
	}
	for i, s := range l.stack {
		if s == name {
			chain := append(append([]string{}, l.stack[i:]...), name)
			l.errorf(at, "include cycle: %s", strings.Join(chain, " -> "))
			return
		}
	}
	if first, ok := l.read[name]; ok {
		// include-once; warn when an #include meant to inline the file into another section
		if at.Line > 0 && cur != nil && !cur.discard && cur.name != first.section {
			l.warnf(at, "%s was already read (from %s), so its lines are not added to [%s]: each file is read once", name, first.at, cur.name)
		}
		return
	}
	if len(l.stack) > MaxIncludeDepth {
		chain := append(append([]string{}, l.stack...), name)
		l.errorf(at, "includes nested more than %d levels deep: %s", MaxIncludeDepth, strings.Join(chain, " -> "))
		return
	}
	if skipDirs {
		if st, err := fs.Stat(l.fsys, name); err == nil && st.IsDir() {
			return
		}
	}
	if len(l.doc.Files) >= MaxFiles {
		l.errorf(at, "too many files: more than %d", MaxFiles)
		return
	}
	data, err := l.readLimited(name)
	if err != nil {
		if at.Line == 0 {
			l.errorf(at, "cannot read file: %v", err)
		} else {
			l.errorf(at, "cannot read %s: %v", name, err)
		}
		return
	}
	info := reachInfo{at: at}
	if cur != nil {
		info.section = cur.name
	}
	l.read[name] = info
	l.doc.Files = append(l.doc.Files, name)
	l.stack = append(l.stack, name)
	l.parseFile(name, data, cur)
	l.stack = l.stack[:len(l.stack)-1]
}

// readLimited reads a file, refusing it when the input would exceed MaxInputBytes or
// MaxInputLines.
func (l *loader) readLimited(name string) (string, error) {
	f, err := l.fsys.Open(name)
	if err != nil {
		return "", unwrapPath(err)
	}
	defer f.Close()
	room := MaxInputBytes - l.bytes
	b, err := io.ReadAll(io.LimitReader(f, int64(room)+1))
	if err != nil {
		return "", unwrapPath(err)
	}
	if len(b) > room {
		return "", fmt.Errorf("input too large: more than %d bytes in total", MaxInputBytes)
	}
	s := string(b)
	n := strings.Count(s, "\n")
	if s != "" && !strings.HasSuffix(s, "\n") {
		n++
	}
	if l.lines+n > MaxInputLines {
		return "", fmt.Errorf("input too large: more than %d lines in total", MaxInputLines)
	}
	l.bytes += len(b)
	l.lines += n
	return s, nil
}

// unwrapPath drops the operation and path of an *fs.PathError: messages already name the file.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// include handles #include and #tryinclude: arg is the text after the directive.
func (l *loader) include(directive, arg string, at Pos, cur *rawSection) {
	try := directive == "tryinclude"
	name, ok := unquote(arg)
	if !ok {
		l.errorf(at, "#%s %s: unbalanced quotes (write #%s \"file\")", directive, arg, directive)
		return
	}
	if name == "" {
		l.errorf(at, "#%s needs a file name (write #%s \"file\")", directive, directive)
		return
	}
	if strings.HasPrefix(name, "/") {
		l.errorf(at, "#%s %q: absolute paths are not supported (paths are relative to the including file)", directive, name)
		return
	}
	pattern := path.Join(path.Dir(at.File), name)
	if !fs.ValidPath(pattern) {
		l.errorf(at, "#%s %q: path leaves the configuration directory", directive, name)
		return
	}
	matches, err := fs.Glob(l.fsys, pattern)
	if err != nil {
		l.errorf(at, "#%s %q: bad pattern: %v", directive, name, err)
		return
	}
	meta := strings.ContainsAny(name, `*?[\`)
	if len(matches) == 0 {
		if try {
			return
		}
		if meta {
			l.errorf(at, "#include %q: no file matches %s", name, pattern)
		} else {
			l.errorf(at, "#include %q: file %s not found", name, pattern)
		}
		return
	}
	for _, m := range matches {
		l.reach(m, at, cur, meta)
	}
}

// unquote strips "..." or <...> around an include argument; ok is false when they are unbalanced.
func unquote(arg string) (string, bool) {
	if arg == "" {
		return "", true
	}
	first, last := arg[0], arg[len(arg)-1]
	switch {
	case first == '"':
		if len(arg) < 2 || last != '"' {
			return "", false
		}
		return arg[1 : len(arg)-1], true
	case first == '<':
		if len(arg) < 2 || last != '>' {
			return "", false
		}
		return arg[1 : len(arg)-1], true
	case last == '"' || last == '>':
		return "", false
	}
	return arg, true
}

// sortProblems orders errors and warnings by file (first-reach order), then line.
func (l *loader) sortProblems() {
	less := func(es []*Error) func(i, j int) bool {
		return func(i, j int) bool {
			fi, fj := l.fileOrder[es[i].Pos.File], l.fileOrder[es[j].Pos.File]
			if fi != fj {
				return fi < fj
			}
			return es[i].Pos.Line < es[j].Pos.Line
		}
	}
	sort.SliceStable(l.errs, less(l.errs))
	sort.SliceStable(l.warns, less(l.warns))
}
