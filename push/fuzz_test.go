package push_test

import (
	"strings"
	"testing"

	"github.com/sidecar-voip/sidecar/push"
)

// The push API's bodies, dialect text and JSON, over any input: a stored text or an error,
// never a panic; a stored text ends its last line.
func FuzzBodies(f *testing.F) {
	for _, s := range [][2]string{
		{"alice", "[alice](subscriber)\nuser = alice\n"},
		{"t", "context = c\nmailbox-pin = {{ .Header \"X\" }}"},
		{"j", `{"parents":["subscriber"],"fields":{"user":"bob","codecs":["pcmu","pcma"]}}`},
		{"j", `{"fields":{"user":null}}`},
		{"../x", "[x]\n"},
		{"x", "#include /etc/passwd\n"},
	} {
		f.Add(s[0], []byte(s[1]))
	}
	f.Fuzz(func(t *testing.T, name string, body []byte) {
		for what, fn := range map[string]func(string, []byte) (string, error){"text": push.FromText, "json": push.FromJSON} {
			out, err := fn(name, body)
			if err != nil {
				continue
			}
			if push.CheckName(name) != nil {
				t.Errorf("%s: name %q refused by CheckName but stored", what, name)
			}
			if out != "" && !strings.HasSuffix(out, "\n") {
				t.Errorf("%s: stored text does not end its last line: %q", what, out)
			}
		}
	})
}
