package dialect

import (
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"golang.org/x/tools/txtar"
)

// FuzzLoad feeds Load with a txtar archive (or, when data is not one, a single file) and checks
// that it never panics and that every position and reference in its answer is real.
func FuzzLoad(f *testing.F) {
	paths, _ := filepath.Glob(filepath.Join("testdata", "*.txtar"))
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("[a](!)\nk = v\n[b](a)\nk += w\n"))
	f.Add([]byte("[s]\nexten => _X.,1,Set(a=b);--\n--;\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fsys, load := fuzzInput(data)
		doc, err := Load(fsys, load...)
		if doc == nil {
			t.Fatal("nil Doc")
		}
		if err != nil {
			es, ok := err.(Errors)
			if !ok || len(es) == 0 {
				t.Fatalf("error %T %v is not a non-empty Errors", err, err)
			}
			for _, e := range es {
				checkPos(t, fsys, load, e.Pos, "error "+e.Msg)
			}
		}
		for _, w := range doc.Warnings {
			checkPos(t, fsys, load, w.Pos, "warning "+w.Msg)
		}
		seen := map[string]bool{}
		for _, s := range doc.Sections {
			if seen[s.Name] || doc.Section(s.Name) != s {
				t.Fatalf("[%s] is duplicated or not indexed", s.Name)
			}
			seen[s.Name] = true
			checkPos(t, fsys, nil, s.Pos, "section "+s.Name)
			for _, p := range s.Parents {
				if p == s.Name || doc.Section(p) == nil {
					t.Fatalf("[%s] references unknown or self parent %q", s.Name, p)
				}
			}
			if len(s.Lines) > MaxSectionLines {
				t.Fatalf("[%s] has %d lines", s.Name, len(s.Lines))
			}
			for _, l := range s.Lines {
				checkPos(t, fsys, nil, l.Pos, "line "+l.Key)
				if l.From != "" && doc.Section(l.From) == nil {
					t.Fatalf("line %s of [%s] is from unknown section %q", l.Key, s.Name, l.From)
				}
				if l.Op == OpAppend || l.Key == "" {
					t.Fatalf("unfolded or empty-key line %+v in [%s]", l, s.Name)
				}
			}
		}
		files := map[string]bool{}
		for _, f := range doc.Files {
			if files[f] {
				t.Fatalf("file %s read twice", f)
			}
			files[f] = true
		}
	})
}

// fuzzInput turns fuzz data into a file system and the files to load.
func fuzzInput(data []byte) (fstest.MapFS, []string) {
	a := txtar.Parse(data)
	if len(a.Files) == 0 {
		return fstest.MapFS{"a.conf": {Data: data}}, []string{"a.conf"}
	}
	fsys, load := archiveFS(a)
	for name := range fsys {
		if !fs.ValidPath(name) {
			delete(fsys, name) // MapFS keys must be valid paths
		}
	}
	return fsys, load
}

// checkPos fails unless p is a line of a file in fsys, or line 0 of a file given to Load.
func checkPos(t *testing.T, fsys fstest.MapFS, load []string, p Pos, what string) {
	t.Helper()
	if p.Line == 0 {
		for _, l := range load {
			if path.Clean(l) == p.File {
				return
			}
		}
		t.Fatalf("%s: position %s is line 0 of a file not given to Load", what, p)
	}
	f, ok := fsys[p.File]
	if !ok {
		t.Fatalf("%s: position %s names a file that does not exist", what, p)
	}
	text := string(f.Data)
	n := strings.Count(text, "\n")
	if text != "" && !strings.HasSuffix(text, "\n") {
		n++
	}
	if p.Line < 1 || p.Line > n {
		t.Fatalf("%s: position %s is outside the file's %d lines", what, p, n)
	}
}
