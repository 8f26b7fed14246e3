package dialect

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/tools/txtar"
)

var update = flag.Bool("update", false, "rewrite the want section of testdata/*.txtar")

// archiveFS turns a txtar archive into the input of one Load: every file except "load" and
// "want" goes into the file system; "load" lists the files to load, one a line, else the
// first file is loaded.
func archiveFS(a *txtar.Archive) (fstest.MapFS, []string) {
	fsys := fstest.MapFS{}
	var load []string
	first := ""
	for _, f := range a.Files {
		switch f.Name {
		case "want":
		case "load":
			load = strings.Fields(string(f.Data))
		default:
			if first == "" {
				first = f.Name
			}
			fsys[f.Name] = &fstest.MapFile{Data: f.Data}
		}
	}
	if load == nil && first != "" {
		load = []string{first}
	}
	return fsys, load
}

var opText = map[Op]string{OpSet: "=", OpArrow: "=>", OpAppend: "+="}

// dump formats a loaded Doc and its problems as stable text.
func dump(doc *Doc, err error) string {
	var b strings.Builder
	fmt.Fprintf(&b, "files: %s\n", strings.Join(doc.Files, " "))
	for _, s := range doc.Sections {
		var opts []string
		if s.Abstract {
			opts = append(opts, "!")
		}
		opts = append(opts, s.Parents...)
		head := "[" + s.Name + "]"
		if len(opts) > 0 {
			head += "(" + strings.Join(opts, ",") + ")"
		}
		fmt.Fprintf(&b, "%s  @%s\n", head, s.Pos)
		for _, l := range s.Lines {
			from := ""
			if l.From != "" {
				from = " <" + l.From
			}
			fmt.Fprintf(&b, "  %s %s %s  @%s%s\n", l.Key, opText[l.Op], strconv.Quote(l.Value), l.Pos, from)
		}
	}
	for _, w := range doc.Warnings {
		fmt.Fprintf(&b, "warning: %s\n", w)
	}
	if es, ok := err.(Errors); ok {
		for _, e := range es {
			fmt.Fprintf(&b, "error: %s\n", e)
		}
	} else if err != nil {
		fmt.Fprintf(&b, "error (not Errors): %v\n", err)
	}
	return b.String()
}

func TestGolden(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join("testdata", "*.txtar"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no golden files: %v", err)
	}
	for _, p := range paths {
		t.Run(strings.TrimSuffix(filepath.Base(p), ".txtar"), func(t *testing.T) {
			a, err := txtar.ParseFile(p)
			if err != nil {
				t.Fatal(err)
			}
			fsys, load := archiveFS(a)
			doc, lerr := Load(fsys, load...)
			got := dump(doc, lerr)
			wantIdx := -1
			for i, f := range a.Files {
				if f.Name == "want" {
					wantIdx = i
				}
			}
			if *update {
				if wantIdx < 0 {
					a.Files = append(a.Files, txtar.File{Name: "want"})
					wantIdx = len(a.Files) - 1
				}
				a.Files[wantIdx].Data = []byte(got)
				if err := os.WriteFile(p, txtar.Format(a), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if wantIdx < 0 {
				t.Fatal("no -- want -- section (run go test -update)")
			}
			if diff := cmp.Diff(string(a.Files[wantIdx].Data), got); diff != "" {
				t.Errorf("dump mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
