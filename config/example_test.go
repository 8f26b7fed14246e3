package config

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestExampleFile checks that examples/sidecar.ini parses, that its active lines (the
// documented defaults) give exactly Default(), and that it writes every key.
func TestExampleFile(t *testing.T) {
	data, err := os.ReadFile("../examples/sidecar.ini")
	if err != nil {
		t.Fatal(err)
	}
	c, err := Parse("examples/sidecar.ini", data)
	if err != nil {
		t.Fatalf("examples/sidecar.ini: %v", err)
	}
	if d := cmp.Diff(Default(), c, cmpOpts); d != "" {
		t.Errorf("examples/sidecar.ini documents defaults other than Default() (-Default +file):\n%s", d)
	}
	idx, _ := scan("", data)
	for _, k := range keySpecs() {
		if k.repeat {
			// A repeatable key has no default: it must be shown in an example line.
			re := regexp.MustCompile(`(?m)^;\s+` + regexp.QuoteMeta(k.name) + `\s*=`)
			if !re.Match(sectionText(string(data), k.section)) {
				t.Errorf("examples/sidecar.ini: [%s] %s has no example line", k.section, k.name)
			}
			continue
		}
		if len(idx.keys[k.section+"/"+k.name]) != 1 {
			t.Errorf("examples/sidecar.ini: [%s] %s is not written once with its default", k.section, k.name)
		}
	}
}

// TestExampleLinesParse parses every commented example line ("; key = value") in its section,
// so the examples in the file cannot go stale.
func TestExampleLinesParse(t *testing.T) {
	data, err := os.ReadFile("../examples/sidecar.ini")
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`^;\s+([a-z-]+)\s*=\s*(.+)$`)
	section := ""
	n := 0
	for i, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "[") {
			section = strings.Trim(line, "[]")
			continue
		}
		m := re.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		if _, ok := lookupKey(keySpecs(), section, m[1]); !ok {
			continue // prose that happens to look like a key line
		}
		n++
		text := "[" + section + "]\n" + m[1] + " = " + m[2] + "\n"
		switch {
		case section == "identify" && m[1] == "ip":
			text += "[sip]\nidentify = ip\n"
		case section == "sip" && m[1] == "listen":
			text += "tls-cert = c.pem\ntls-key = k.pem\n"
		case section == "sip" && (m[1] == "tls-cert" || m[1] == "tls-key"):
			text += "tls-cert = c.pem\ntls-key = k.pem\n"
			text = strings.Replace(text, m[1]+" = c.pem\n", "", 1)
			text = strings.Replace(text, m[1]+" = k.pem\n", "", 1)
		case section == "sip" && m[1] == "identify":
			text += "[identify]\nip = 192.0.2.0/24 => trunk\n"
		}
		if _, err := Parse("example", []byte(text)); err != nil {
			t.Errorf("examples/sidecar.ini:%d: example %q does not parse: %v", i+1, line, err)
		}
	}
	if n < 15 {
		t.Errorf("found only %d example lines", n)
	}
}

// TestReferenceDocumentsEveryKey checks that docs/configuration.md has a table row for every
// key of every section.
func TestReferenceDocumentsEveryKey(t *testing.T) {
	data, err := os.ReadFile("../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keySpecs() {
		text := sectionText(string(data), k.section)
		if !regexp.MustCompile("(?m)^\\| `" + regexp.QuoteMeta(k.name) + "` \\|").Match(text) {
			t.Errorf("docs/configuration.md: no table row for [%s] %s", k.section, k.name)
		}
	}
}

// sectionText returns the part of text from the line "[section]" (a file) or "## [section]"
// (the reference) to the next such line.
func sectionText(text, section string) []byte {
	heading := regexp.MustCompile(`(?m)^(## )?\[([a-z]+)\]`)
	locs := heading.FindAllStringSubmatchIndex(text, -1)
	for i, loc := range locs {
		if text[loc[4]:loc[5]] != section {
			continue
		}
		end := len(text)
		if i+1 < len(locs) {
			end = locs[i+1][0]
		}
		return []byte(text[loc[1]:end])
	}
	return nil
}
