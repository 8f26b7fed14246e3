package username

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sidecar-voip/sidecar/config"
	"github.com/sidecar-voip/sidecar/identify"
	"github.com/sidecar-voip/sidecar/identify/internal/idtest"
	"github.com/sidecar-voip/sidecar/profile"
)

func TestUsername(t *testing.T) {
	set := idtest.Set(t, idtest.Templates)
	tests := []struct {
		prefix, user string
		want         string // caller template; "" = no match
	}{
		{"", "alice", "alice"},
		{"", "trunk", "trunk"}, // why a prefix is recommended
		{"", "bob", ""},
		{"", "base", ""}, // abstract templates never match
		{"", "", ""},
		{"user-", "alice", "user-alice"},
		{"user-", "trunk", ""},
		{"user-", "al ice", ""},
		{"user-", "alice;x=1", ""},
		{"", strings.Repeat("a", 65), ""},
	}
	for _, tt := range tests {
		t.Run(tt.prefix+"|"+tt.user, func(t *testing.T) {
			id, err := New(identify.Deps{Templates: set, Config: config.Identify{Username: tt.prefix}})
			if err != nil {
				t.Fatal(err)
			}
			got, err := id.Identify(context.Background(), idtest.Request("127.0.0.1:5060", tt.user))
			if tt.want == "" {
				if !errors.Is(err, identify.ErrNoMatch) {
					t.Fatalf("got %+v, %v; want ErrNoMatch", got, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(identify.Result{Caller: profile.Match{Name: tt.want}}, got); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

func TestNewErrors(t *testing.T) {
	if _, err := New(identify.Deps{}); err == nil {
		t.Error("New without templates succeeded")
	}
	set := idtest.Set(t, idtest.Templates)
	if _, err := New(identify.Deps{Templates: set, Config: config.Identify{Username: "a b"}}); err == nil || !strings.Contains(err.Error(), "username-prefix") {
		t.Errorf("New with a bad prefix = %v, want an error naming username-prefix", err)
	}
}
