package docblock_test

import (
	"errors"
	"testing"

	"github.com/sidecar-voip/sidecar/internal/docblock"
)

func TestFindReplace(t *testing.T) {
	doc := "# t\n\n<!-- make docs: sidecar check -->\n```\nold\n```\n<!-- /make docs -->\ntext\n" +
		"<!-- make docs: first-call -->\n<!-- /make docs -->\n"
	blocks, err := docblock.Find("x.md", doc)
	if err != nil {
		t.Fatal(err)
	}
	if len(blocks) != 2 || blocks[0].Name != "sidecar check" || blocks[0].Line != 3 || blocks[0].Body != "```\nold\n```\n" ||
		blocks[1].Name != "first-call" || blocks[1].Body != "" {
		t.Fatalf("Find: %+v", blocks)
	}
	got := docblock.Replace(doc, blocks, []string{docblock.Fence("sh", "new"), docblock.Fence("", "fc")})
	want := "# t\n\n<!-- make docs: sidecar check -->\n```sh\nnew\n```\n<!-- /make docs -->\ntext\n" +
		"<!-- make docs: first-call -->\n```\nfc\n```\n<!-- /make docs -->\n"
	if got != want {
		t.Errorf("Replace:\n%s\nwant:\n%s", got, want)
	}
	if _, err := docblock.Find("x.md", "a\n<!-- make docs: x -->\n```\n"); !errors.Is(err, docblock.ErrUnclosed) || err.Error()[:7] != "x.md:2:" {
		t.Errorf("unclosed: %v", err)
	}
}
