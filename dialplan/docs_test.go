package dialplan

import (
	"os"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
)

// TestDocsExamples compiles every ini example of docs/dialplan.md that holds an exten line,
// so the reference cannot drift from the code.
func TestDocsExamples(t *testing.T) {
	b, err := os.ReadFile("../docs/dialplan.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```ini\n(.*?)```").FindAllStringSubmatch(string(b), -1)
	n := 0
	for _, m := range blocks {
		if !strings.Contains(m[1], "exten") {
			continue
		}
		n++
		if _, err := LoadFS(fstest.MapFS{"extensions.conf": {Data: []byte(m[1])}}, ".", testRegistry(t)); err != nil {
			t.Errorf("example:\n%s\nerror:\n%v", m[1], err)
		}
	}
	if n == 0 {
		t.Fatal("no examples found")
	}
}

func TestWarningsKept(t *testing.T) {
	p := compileText(t, "[with space]\nexten => 1,1,NoOp()\n")
	if len(p.Warnings()) == 0 {
		t.Fatal("no warning for a section name with a space")
	}
	if !strings.HasPrefix(p.Warnings()[0].Error(), "extensions.conf:1: ") {
		t.Errorf("warning %v lacks file:line", p.Warnings()[0])
	}
}
