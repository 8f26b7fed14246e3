package dialplan

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
	"github.com/sidecar-voip/sidecar/profile"
	"golang.org/x/tools/txtar"
)

var update = flag.Bool("update", false, "rewrite the golden files' want sections")

// TestGolden runs the txtar archives in testdata/golden. Each holds the dialplan files (every
// *.conf), "calls" (one call a line: context exten [key=value...], keys location and context
// of the callee profile) and "want": for each call the static Steps listing, the Trace and the
// channel events. go test -update rewrites "want".
func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/golden/*.txtar")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files: %v", err)
	}
	reg := testRegistry(t)
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			ar, err := txtar.ParseFile(file)
			if err != nil {
				t.Fatal(err)
			}
			fsys := fstest.MapFS{}
			var calls string
			wantIdx := -1
			for i, f := range ar.Files {
				switch {
				case f.Name == "calls":
					calls = string(f.Data)
				case f.Name == "want":
					wantIdx = i
				default:
					fsys[f.Name] = &fstest.MapFile{Data: f.Data}
				}
			}
			got := goldenOutput(t, fsys, reg, calls)
			if *update {
				if wantIdx < 0 {
					ar.Files = append(ar.Files, txtar.File{Name: "want"})
					wantIdx = len(ar.Files) - 1
				}
				ar.Files[wantIdx].Data = []byte(got)
				if err := os.WriteFile(file, txtar.Format(ar), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if wantIdx < 0 {
				t.Fatal("no want section; run go test -update")
			}
			if diff := cmp.Diff(string(ar.Files[wantIdx].Data), got); diff != "" {
				t.Errorf("output (-want +got):\n%s", diff)
			}
		})
	}
}

func goldenOutput(t *testing.T, fsys fstest.MapFS, reg *Registry, calls string) string {
	var b strings.Builder
	p, err := LoadFS(fsys, ".", reg)
	if err != nil {
		fmt.Fprintf(&b, "compile error:\n%v\n", err)
		return b.String()
	}
	for _, line := range strings.Split(strings.TrimSpace(calls), "\n") {
		fields := strings.Fields(line)
		if len(fields) < 2 {
			t.Fatalf("bad calls line %q", line)
		}
		callee := &profile.Profile{}
		for _, kv := range fields[2:] {
			k, v, _ := strings.Cut(kv, "=")
			switch k {
			case "location":
				callee.Location = v
			case "context":
				callee.Context = v
			default:
				t.Fatalf("bad key %q in calls line %q", k, line)
			}
		}
		fmt.Fprintf(&b, "== %s\n", line)
		if matched, steps, ok := p.Steps(fields[0], fields[1]); ok {
			fmt.Fprintf(&b, "matched %s\n", matched)
			for _, s := range steps {
				fmt.Fprintf(&b, "  %s  ; %s\n", s, s.Pos)
			}
		} else {
			b.WriteString("no match\n")
		}
		ch := newRecorder(nil)
		ch.callee = callee
		trace, err := ch.run(context.Background(), p, fields[0], fields[1], nil)
		b.WriteString("trace:\n")
		for _, s := range trace {
			fmt.Fprintf(&b, "  %s\n", s)
		}
		if err != nil && !errors.Is(err, ErrEnded) { // the events show the answer
			fmt.Fprintf(&b, "error: %v\n", err)
		}
		fmt.Fprintf(&b, "events:\n  %s\n", strings.ReplaceAll(ch.log(), "\n", "\n  "))
	}
	return b.String()
}
