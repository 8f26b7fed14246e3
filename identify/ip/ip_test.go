package ip

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sidecar-voip/sidecar/config"
	"github.com/sidecar-voip/sidecar/identify"
	"github.com/sidecar-voip/sidecar/identify/internal/idtest"
	"github.com/sidecar-voip/sidecar/profile"
)

// rules parses [identify] ip lines with the real config parser.
func rules(t *testing.T, lines ...string) config.Identify {
	t.Helper()
	text := "[sip]\nidentify = ip\n[identify]\n"
	for _, l := range lines {
		text += "ip = " + l + "\n"
	}
	c, err := config.Parse("test.ini", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	return c.Identify
}

func TestIP(t *testing.T) {
	set := idtest.Set(t, idtest.Templates)
	cfg := rules(t,
		"192.0.2.0/24 => trunk",
		"192.0.2.7 => carrier-a",
		"192.0.2.7:5070 => subscriber", // at equal length, the port wins though written later
		"10.0.0.0/8 => trunk",
		"2001:db8::/32 => trunk",
		"[2001:db8::5]:5060 => carrier-a",
	)
	// A rule with the same source, written later, never wins. config rejects it in a file, so
	// add it in code.
	cfg.IP = append(cfg.IP, config.IPRule{Prefix: netip.MustParsePrefix("10.0.0.0/8"), Template: "carrier-a"})
	id, err := New(identify.Deps{Templates: set, Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		src  string
		want string // caller template; "" = no match
	}{
		{"192.0.2.1:5060", "trunk"},
		{"192.0.2.7:5060", "carrier-a"},
		{"192.0.2.7:5070", "subscriber"},
		{"[::ffff:192.0.2.7]:5060", "carrier-a"},
		{"10.9.9.9:1", "trunk"},
		{"[2001:db8::1]:5060", "trunk"},
		{"[2001:db8::5]:5060", "carrier-a"},
		{"[2001:db8::5]:5061", "trunk"},
		{"198.51.100.1:5060", ""},
		{"[2001:db9::1]:5060", ""},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			got, err := id.Identify(context.Background(), idtest.Request(tt.src, "alice", "X-Caller-Template", "anonymous"))
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
	set := idtest.Set(t, idtest.Templates)
	tests := []struct {
		name string
		deps identify.Deps
		want string
	}{
		{"no templates", identify.Deps{Config: rules(t, "10.0.0.0/8 => trunk")}, "no templates"},
		{"no rules", identify.Deps{Templates: set}, "no [identify] ip rules"},
		{"unknown template", identify.Deps{Templates: set, Config: rules(t, "10.0.0.0/8 => trunk", "192.0.2.0/24 => nosuch")},
			`[identify] ip "192.0.2.0/24 => nosuch": unknown template "nosuch"`},
		{"abstract template", identify.Deps{Templates: set, Config: rules(t, "10.0.0.0/8 => base")}, `unknown template "base"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.deps)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New = %v, want error containing %q", err, tt.want)
			}
		})
	}
}

func BenchmarkIdentify(b *testing.B) {
	set := idtest.Set(b, idtest.Templates)
	var cfg config.Identify
	for i := range 256 {
		cfg.IP = append(cfg.IP, config.IPRule{Prefix: netip.MustParsePrefix(fmt.Sprintf("10.%d.0.0/16", i)), Template: "trunk"})
	}
	id, err := New(identify.Deps{Templates: set, Config: cfg})
	if err != nil {
		b.Fatal(err)
	}
	req := idtest.Request("10.255.1.1:5060", "alice")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := id.Identify(context.Background(), req); err != nil {
			b.Fatal(err)
		}
	}
}
