package dialect

import (
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// docExamples returns the ```ini blocks of docs/dialect.md.
func docExamples(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("../../docs/dialect.md")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	rest := string(b)
	for {
		_, after, ok := strings.Cut(rest, "```ini\n")
		if !ok {
			return out
		}
		block, next, _ := strings.Cut(after, "```")
		out = append(out, block)
		rest = next
	}
}

// TestDocExamples loads every example of docs/dialect.md so the reference cannot go stale:
// each must load without errors or warnings, and the outcomes the text states must hold.
func TestDocExamples(t *testing.T) {
	blocks := docExamples(t)
	if len(blocks) < 7 {
		t.Fatalf("found %d ini examples in docs/dialect.md, want at least 7", len(blocks))
	}
	docs := make([]*Doc, len(blocks))
	for i, block := range blocks {
		fsys := mapFS(map[string]string{
			"a.conf":          block,
			"common.conf":     "",
			"phones.d/1.conf": "",
			"other.conf":      "",
			"plain.conf":      "",
		})
		doc, err := Load(fsys, "a.conf")
		if err != nil || len(doc.Warnings) > 0 {
			t.Errorf("example %d:\n%s\nerrors: %v\nwarnings: %v", i, block, err, doc.Warnings)
		}
		docs[i] = doc
	}
	values := func(d *Doc, section string) []string {
		s := d.Section(section)
		if s == nil {
			t.Fatalf("no section [%s]", section)
		}
		var out []string
		for _, l := range s.Lines {
			out = append(out, l.Key+"="+l.Value)
		}
		return out
	}
	checks := []struct {
		block   int
		section string
		want    []string
	}{
		{1, "alice", []string{"allow=ulaw", "allow=alaw", "rtp_symmetric=yes", "context=phones", `callerid="Alice" <100>`}},
		{2, "alice", []string{"allow=ulaw,g722"}},
		{3, "s", []string{"exten=_X.,1,Set(a=b)", "key=a=>b", `to={{ if eq .Request.To.User "100" }}alice{{ end }}`}},
		{4, "phone", []string{"allow=ulaw,g722"}},
		{5, "s", []string{"dial=PJSIP/100;transport=udp", "e=xy"}},
	}
	for _, c := range checks {
		if diff := cmp.Diff(c.want, values(docs[c.block], c.section)); diff != "" {
			t.Errorf("example %d [%s] (-want +got):\n%s", c.block, c.section, diff)
		}
	}
}
