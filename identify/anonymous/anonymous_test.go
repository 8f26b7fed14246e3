package anonymous

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

func TestAnonymous(t *testing.T) {
	set := idtest.Set(t, idtest.Templates)
	for _, tmpl := range []string{"anonymous", "trunk"} {
		id, err := New(identify.Deps{Templates: set, Config: config.Identify{Anonymous: tmpl}})
		if err != nil {
			t.Fatal(err)
		}
		for _, req := range []struct{ src, user string }{{"127.0.0.1:5060", "alice"}, {"[::1]:1", ""}} {
			got, err := id.Identify(context.Background(), idtest.Request(req.src, req.user))
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(identify.Result{Caller: profile.Match{Name: tmpl}}, got); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		}
	}
}

func TestNewErrors(t *testing.T) {
	set := idtest.Set(t, idtest.Templates)
	tests := []struct {
		name string
		deps identify.Deps
		want string
	}{
		{"no templates", identify.Deps{Config: config.Identify{Anonymous: "anonymous"}}, "no templates"},
		{"no name", identify.Deps{Templates: set}, "no template named"},
		{"missing template", identify.Deps{Templates: set, Config: config.Identify{Anonymous: "guest"}}, `[identify] anonymous: unknown template "guest"`},
		{"abstract template", identify.Deps{Templates: set, Config: config.Identify{Anonymous: "base"}}, `unknown template "base"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.deps)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New = %v, want error containing %q", err, tt.want)
			}
			if tt.name == "missing template" && !errors.Is(err, profile.ErrUnknownTemplate) {
				t.Errorf("error does not match profile.ErrUnknownTemplate: %v", err)
			}
		})
	}
}
