package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sidecar-voip/sidecar/internal/docblock"
)

var updateDocs = flag.Bool("update-docs", false, "rewrite the generated samples of README.md and docs/*.md (make docs)")

// docFiles are the documents whose samples are generated, under the repository root.
func docFiles(t *testing.T, root string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	return append([]string{filepath.Join(root, "README.md")}, files...)
}

// Every "<!-- make docs: sidecar ... -->" block of README.md and docs/*.md holds what that
// command prints today, run from the repository root on the shipped templates: render's JSON,
// check's summary. -update-docs (make docs) rewrites them. Other blocks (first-call) belong
// to the e2e suite, which runs SIPp.
func TestDocsSamples(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	files := docFiles(t, root)
	seen := 0
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		doc := string(b)
		rel, _ := filepath.Rel(root, file)
		blocks, err := docblock.Find(rel, doc)
		if err != nil {
			t.Fatal(err)
		}
		bodies := make([]string, len(blocks))
		for i, bl := range blocks {
			bodies[i] = bl.Body
			if !strings.HasPrefix(bl.Name, "sidecar ") {
				continue
			}
			seen++
			bodies[i] = docblock.Fence("sh", "$ "+bl.Name+"\n"+runFrom(t, root, rel, bl))
			if !*updateDocs && bodies[i] != bl.Body {
				t.Errorf("%s:%d: the sample of %q is stale; run make docs (-doc +today):\n%s",
					rel, bl.Line, bl.Name, cmp.Diff(bl.Body, bodies[i]))
			}
		}
		if *updateDocs {
			if out := docblock.Replace(doc, blocks, bodies); out != doc {
				if err := os.WriteFile(file, []byte(out), 0o644); err != nil {
					t.Fatal(err)
				}
				t.Logf("rewrote %s", rel)
			}
		}
	}
	if seen < 2 {
		t.Errorf("%d generated command samples in README.md and docs/*.md, want the render and check ones", seen)
	}
}

// runFrom runs the block's sidecar command in-process from dir and returns what it printed;
// the command must succeed.
func runFrom(t *testing.T, dir, file string, bl docblock.Block) string {
	t.Helper()
	t.Chdir(dir)
	var stdout, stderr bytes.Buffer
	if code := run(strings.Fields(bl.Name)[1:], strings.NewReader(""), &stdout, &stderr); code != 0 {
		t.Fatalf("%s:%d: %s: exit %d\n%s", file, bl.Line, bl.Name, code, stderr.String())
	}
	return stdout.String() + stderr.String()
}
