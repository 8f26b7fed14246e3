package profile_test

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestDocExamples compiles every ```ini block of docs/templates.md (wrapped in a section when
// it has none), so the reference cannot drift from the code.
func TestDocExamples(t *testing.T) {
	doc, err := os.ReadFile("../docs/templates.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```ini\n(.*?)```").FindAllStringSubmatch(string(doc), -1)
	if len(blocks) < 3 {
		t.Fatalf("found %d ini examples, want at least 3", len(blocks))
	}
	for _, b := range blocks {
		text := b[1]
		if !strings.Contains(text, "[") {
			text = "[doc-example]\n" + text
		}
		loadSet(t, map[string]string{"example.conf": text})
	}
}
