package routing

import (
	"bytes"
	"io"
	"io/fs"
	"slices"
	"strings"
	"time"

	"github.com/sidecar-voip/sidecar/internal/dialect"
	"github.com/sidecar-voip/sidecar/profile"
)

// PushedPrefix starts the file name a pushed template has in positions: the template
// [alice] pushed over the admin API is the file "pushed:alice", so its errors read
// "pushed:alice:2: message", as a file's read "users.conf:2: message".
const PushedPrefix = "pushed:"

// Pushed is one template pushed over the admin API (package push): one section of the
// template dialect, compiled together with the template files, so it may inherit from them
// and they from it.
type Pushed struct {
	// Name is the section's name, which Text must define.
	Name string
	// Text is the section in the template dialect: "[name]" or "[name](parents)" and its
	// "key = value" lines. It may define no other section, add to none ((+)) and include no
	// file.
	Text string
}

// PushedFile is the file name of the pushed template name in positions.
func PushedFile(name string) string { return PushedPrefix + name }

// PushedName returns the template name of a pushed file name, and whether file is one.
func PushedName(file string) (string, bool) { return strings.CutPrefix(file, PushedPrefix) }

// loadTemplates compiles the template files of fsys together with the pushed templates.
func loadTemplates(fsys fs.FS, pushed []Pushed) (*profile.Set, *dialect.Doc, dialect.Errors, dialect.Errors) {
	files, err := profile.TemplateFiles(fsys, ".")
	if err != nil {
		return nil, nil, dialect.Errors{{Pos: dialect.Pos{File: "."}, Msg: err.Error()}}, nil
	}
	if len(pushed) == 0 {
		return profile.CheckFiles(fsys, files...)
	}
	var errs dialect.Errors
	over := &overlayFS{base: fsys, files: make(map[string]string, len(pushed))}
	for _, p := range pushed {
		name := PushedFile(p.Name)
		if _, dup := over.files[name]; dup {
			errs = append(errs, &dialect.Error{Pos: dialect.Pos{File: name}, Msg: "pushed twice"})
			continue
		}
		errs = append(errs, directives(name, p.Text)...)
		over.files[name] = p.Text
		files = append(files, name)
	}
	if len(errs) > 0 {
		return nil, nil, errs, nil
	}
	set, doc, errs, warns := profile.CheckFiles(over, files...)
	if doc != nil {
		if serrs := pushedShape(doc, pushed); len(serrs) > 0 {
			return nil, doc, append(serrs, errs...), warns
		}
	}
	return set, doc, errs, warns
}

// directives refuses #include and every other directive in a pushed template: a push
// carries its own lines only.
func directives(file, text string) dialect.Errors {
	var errs dialect.Errors
	for i, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "#") {
			errs = append(errs, &dialect.Error{Pos: dialect.Pos{File: file, Line: i + 1},
				Msg: "a pushed template cannot use directives such as #include"})
		}
	}
	return errs
}

// pushedShape checks that each pushed file defines its own section and touches no other.
func pushedShape(doc *dialect.Doc, pushed []Pushed) dialect.Errors {
	var errs dialect.Errors
	for _, p := range pushed {
		file := PushedFile(p.Name)
		if s := doc.Section(p.Name); s == nil || s.Pos.File != file {
			if s != nil && s.Pos.File != file {
				errs = append(errs, &dialect.Error{Pos: dialect.Pos{File: file, Line: 1},
					Msg: "[" + p.Name + "] is a template of " + s.Pos.String() + ": a push cannot replace a file template"})
			} else {
				errs = append(errs, &dialect.Error{Pos: dialect.Pos{File: file, Line: 1},
					Msg: "the push defines no [" + p.Name + "] section"})
			}
		}
	}
	for _, s := range doc.Sections {
		if name, ok := PushedName(s.Pos.File); ok && name != s.Name {
			errs = append(errs, &dialect.Error{Pos: s.Pos,
				Msg: "a pushed template defines only its own section [" + name + "], not [" + s.Name + "]"})
		}
		for _, l := range s.Lines {
			if name, ok := PushedName(l.Pos.File); ok && l.From == "" && name != s.Name {
				errs = append(errs, &dialect.Error{Pos: l.Pos,
					Msg: "a pushed template changes only its own section [" + name + "], not [" + s.Name + "]"})
			}
		}
	}
	slices.SortStableFunc(errs, func(a, b *dialect.Error) int {
		if c := strings.Compare(a.Pos.File, b.Pos.File); c != 0 {
			return c
		}
		return a.Pos.Line - b.Pos.Line
	})
	return errs
}

// overlayFS is a file system with the pushed templates as extra files at its root.
type overlayFS struct {
	base  fs.FS
	files map[string]string
}

func (o *overlayFS) Open(name string) (fs.File, error) {
	if text, ok := o.files[name]; ok {
		return &memFile{name: name, r: bytes.NewReader([]byte(text)), size: int64(len(text))}, nil
	}
	return o.base.Open(name)
}

// memFile is one pushed template opened as a file.
type memFile struct {
	name string
	r    *bytes.Reader
	size int64
}

func (f *memFile) Read(p []byte) (int, error) { return f.r.Read(p) }
func (f *memFile) Close() error               { return nil }
func (f *memFile) Stat() (fs.FileInfo, error) { return memInfo{f}, nil }

type memInfo struct{ f *memFile }

func (i memInfo) Name() string       { return i.f.name }
func (i memInfo) Size() int64        { return i.f.size }
func (i memInfo) Mode() fs.FileMode  { return 0o444 }
func (i memInfo) ModTime() time.Time { return time.Time{} }
func (i memInfo) IsDir() bool        { return false }
func (i memInfo) Sys() any           { return nil }

var _ io.Reader = (*memFile)(nil)
