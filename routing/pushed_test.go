package routing_test

import (
	"strings"
	"testing"

	"github.com/sidecar-voip/sidecar/config"
	"github.com/sidecar-voip/sidecar/routing"
)

// pushFiles is a template directory pushed templates inherit from.
var pushFiles = map[string]string{
	"base.conf":       "[sub](!)\ncontext = default\ncodecs = pcmu\n\n[filechild](alice)\nuser = child\n",
	"extensions.conf": "[default]\nexten => _X.,1,Answer()\n",
}

func loadPushed(t *testing.T, pushed ...routing.Pushed) (*routing.Bundle, error) {
	t.Helper()
	b, d := routing.Load(routing.Options{Config: config.Default(), Dir: writeDir(t, pushFiles), Apps: registry(t), Pushed: pushed})
	return b, d.Err()
}

func TestLoadPushedInheritsBothWays(t *testing.T) {
	b, err := loadPushed(t, routing.Pushed{Name: "alice", Text: "[alice](sub)\ncodecs = g722\nmailbox-id = 1000\n"})
	if err != nil {
		t.Fatal(err)
	}
	sec := b.Section("alice")
	if sec == nil || sec.Pos.String() != "pushed:alice:1" {
		t.Fatalf("alice at %v, want pushed:alice:1", sec)
	}
	if got := b.Section("filechild").Values("codecs"); len(got) != 2 || got[1] != "g722" {
		t.Errorf("file template inheriting from the push: codecs %q", got)
	}
	if len(b.Pushed()) != 1 {
		t.Errorf("Pushed() = %v", b.Pushed())
	}
}

func TestLoadPushedErrors(t *testing.T) {
	tests := []struct {
		name   string
		pushed []routing.Pushed
		want   string
	}{
		{"bad value", []routing.Pushed{{Name: "alice", Text: "[alice](sub)\ncodecs = nosuch\n"}}, "pushed:alice:2: "},
		{"unknown parent", []routing.Pushed{{Name: "alice", Text: "[alice](nope)\n"}}, "pushed:alice:1: "},
		{"other section", []routing.Pushed{{Name: "alice", Text: "[alice](sub)\n[bob](sub)\n"}}, "pushed:alice:2: a pushed template defines only its own section [alice], not [bob]"},
		{"adds to a file template", []routing.Pushed{{Name: "alice", Text: "[alice](sub)\n[sub](+)\ncodecs = pcma\n"}}, "pushed:alice:3: a pushed template changes only its own section [alice], not [sub]"},
		{"include", []routing.Pushed{{Name: "alice", Text: "[alice](sub)\n#include base.conf\n"}}, "pushed:alice:2: a pushed template cannot use directives"},
		{"file name", []routing.Pushed{{Name: "sub", Text: "[sub]\n"}}, "pushed:sub:1: "},
		{"no section", []routing.Pushed{{Name: "alice", Text: "; nothing\n"}}, "pushed:alice:1: the push defines no [alice] section"},
		{"match section", []routing.Pushed{{Name: "alice", Text: "[alice](sub)\n[template-match]\n"}}, "pushed:alice:2: a pushed template defines only"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := loadPushed(t, tc.pushed...)
			if err == nil || b != nil {
				t.Fatalf("loaded, want an error %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error:\n%v\nwant it to contain %q", err, tc.want)
			}
		})
	}
}

// TestLoadPushedMissingParentOfFile: a file template whose parent is a push cannot load
// without it, so removing the push is refused rather than silently breaking the files.
func TestLoadPushedMissingParentOfFile(t *testing.T) {
	if _, err := loadPushed(t); err == nil || !strings.Contains(err.Error(), "base.conf:5") {
		t.Fatalf("load without the pushed parent: %v, want an error at base.conf:5", err)
	}
}
