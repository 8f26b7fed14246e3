package standard

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sidecar-voip/sidecar/config"
	"github.com/sidecar-voip/sidecar/identify"
	"github.com/sidecar-voip/sidecar/identify/internal/idtest"
	"github.com/sidecar-voip/sidecar/internal/sipstatus"
	"github.com/sidecar-voip/sidecar/profile"
	"github.com/sidecar-voip/sidecar/request"
	"github.com/sidecar-voip/sidecar/templates"
)

// TestRegistryMatchesConfig keeps the names config accepts and the names registered equal.
func TestRegistryMatchesConfig(t *testing.T) {
	if d := cmp.Diff(config.Identifiers(), Registry().Names()); d != "" {
		t.Errorf("config.Identifiers() and Registry().Names() differ (-config +registry):\n%s", d)
	}
}

// chainFor parses settings text with the real config parser and builds the standard chain over
// the shared test templates.
func chainFor(t *testing.T, ini string) *identify.Chain {
	t.Helper()
	c, err := config.Parse("sidecar.ini", []byte(ini))
	if err != nil {
		t.Fatal(err)
	}
	ch, err := Chain(c, idtest.Set(t, idtest.Templates))
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

// TestChainOrder runs the same requests through differently ordered chains.
func TestChainOrder(t *testing.T) {
	const rules = "[identify]\nip = 192.0.2.0/24 => trunk\nusername-prefix = user-\n"
	headerFirst := chainFor(t, "[sip]\nidentify = header, ip, username, anonymous\n"+rules)
	ipFirst := chainFor(t, "[sip]\nidentify = ip, header, username, anonymous\n"+rules)
	noAnonymous := chainFor(t, "[sip]\nidentify = header, ip\n"+rules)

	fromTrunk := idtest.Request("192.0.2.9:5060", "carol", "X-Caller-Template", "subscriber;user=carol")
	fromKamailio := idtest.Request("127.0.0.1:5060", "alice", "X-Callee-Template", "subscriber;user=bob")
	plainAlice := idtest.Request("127.0.0.1:5060", "alice")
	stranger := idtest.Request("127.0.0.1:5060", "mallory")
	badHeader := idtest.Request("127.0.0.1:5060", "alice", "X-Caller-Template", "nosuch")
	badHeaderFromTrunk := idtest.Request("192.0.2.9:5060", "alice", "X-Caller-Template", "nosuch")

	sub := func(user string) profile.Match {
		return profile.Match{Name: "subscriber", Params: map[string]string{"user": user}}
	}
	tests := []struct {
		name       string
		chain      *identify.Chain
		want       *identify.Result // nil = rejected or no match
		req        *request.Request
		wantStatus int // for a rejection or no match, with no-match = 404
	}{
		{"header first: the header wins over the source", headerFirst, &identify.Result{Identifier: "header", Caller: sub("carol")}, fromTrunk, 0},
		{"ip first: the source wins over the header", ipFirst, &identify.Result{Identifier: "ip", Caller: profile.Match{Name: "trunk"}}, fromTrunk, 0},
		{"callee only from header", headerFirst, &identify.Result{Identifier: "header", Callee: sub("bob")}, fromKamailio, 0},
		{"username after header and ip", headerFirst, &identify.Result{Identifier: "username", Caller: profile.Match{Name: "user-alice"}}, plainAlice, 0},
		{"anonymous catches the rest", headerFirst, &identify.Result{Identifier: "anonymous", Caller: profile.Match{Name: "anonymous"}}, stranger, 0},
		{"no match without anonymous", noAnonymous, nil, stranger, 404},
		{"unknown template fails closed, never anonymous", headerFirst, nil, badHeader, 403},
		{"fail closed also when ip would have matched later", headerFirst, nil, badHeaderFromTrunk, 403},
		{"ip first matches before the bad header is read", ipFirst, &identify.Result{Identifier: "ip", Caller: profile.Match{Name: "trunk"}}, badHeaderFromTrunk, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.chain.Identify(context.Background(), tt.req)
			status, _ := sipstatus.Of(identify.Answer(err, 404))
			if tt.want == nil {
				if status != tt.wantStatus {
					t.Fatalf("got %+v, %v (status %d); want status %d", got, err, status, tt.wantStatus)
				}
				if got.Caller.Name != "" || got.Callee.Name != "" {
					t.Errorf("a rejected request got templates: %+v", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			if d := cmp.Diff(*tt.want, got); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

func TestChainConfigErrors(t *testing.T) {
	set := idtest.Set(t, idtest.Templates)
	tests := []struct {
		ini, want string
	}{
		{"[sip]\nidentify = header, anonymous\n[identify]\nanonymous = guest\n", `build identifier anonymous: [identify] anonymous: unknown template "guest"`},
		{"[sip]\nidentify = ip\n[identify]\nip = 10.0.0.0/8 => nosuch\n", `build identifier ip: [identify] ip "10.0.0.0/8 => nosuch": unknown template "nosuch"`},
	}
	for _, tt := range tests {
		c, err := config.Parse("sidecar.ini", []byte(tt.ini))
		if err != nil {
			t.Fatal(err)
		}
		_, err = Chain(c, set)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Chain(%q) = %v, want error containing %q", tt.ini, err, tt.want)
		}
	}
	_, err := Registry().Chain([]string{"header", "bogus"}, identify.Deps{Templates: set})
	if err == nil || !strings.Contains(err.Error(), `unknown identifier "bogus" (known: header, ip, username, anonymous)`) {
		t.Errorf("unknown name: %v", err)
	}
	if _, err := Registry().Chain([]string{"header", "header"}, identify.Deps{Templates: set}); err == nil {
		t.Error("a repeated name was accepted")
	}
}

// TestShippedTemplates builds chains over the templates embedded in the binary: the default
// settings, and a full chain whose anonymous template the shipped files define.
func TestShippedTemplates(t *testing.T) {
	set, err := profile.LoadFS(templates.FS, ".")
	if err != nil {
		t.Fatal(err)
	}
	ch, err := Chain(config.Default(), set)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{"header"}, ch.Names()); d != "" {
		t.Errorf("default chain (-want +got):\n%s", d)
	}
	c, err := config.Parse("sidecar.ini", []byte("[sip]\nidentify = header, anonymous\n"))
	if err != nil {
		t.Fatal(err)
	}
	ch, err = Chain(c, set)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ch.Identify(context.Background(), idtest.Request("127.0.0.1:5060", "alice", "X-Caller-Template", "subscriber;user=alice"))
	if err != nil || got.Identifier != "header" || got.Caller.Name != "subscriber" {
		t.Errorf("header request: %+v, %v", got, err)
	}
	got, err = ch.Identify(context.Background(), idtest.Request("127.0.0.1:5060", "alice"))
	if err != nil || got.Identifier != "anonymous" || got.Caller.Name != "anonymous" {
		t.Errorf("plain request: %+v, %v", got, err)
	}
}

// TestReadmeExamples parses every ```ini block of the identifiers' READMEs with the real
// config parser, and builds its chain over the shared test templates, so the examples
// cannot go stale.
func TestReadmeExamples(t *testing.T) {
	files, err := filepath.Glob("../*/README.md")
	if err != nil {
		t.Fatal(err)
	}
	set := idtest.Set(t, idtest.Templates)
	n := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, block := range strings.Split(string(data), "```ini\n")[1:] {
			text, _, _ := strings.Cut(block, "```")
			n++
			c, err := config.Parse(f, []byte(text))
			if err != nil {
				t.Errorf("%s example %d: %v", f, i+1, err)
				continue
			}
			if _, err := Chain(c, set); err != nil {
				t.Errorf("%s example %d: %v", f, i+1, err)
			}
		}
	}
	if n < 5 {
		t.Errorf("found %d examples in %v, want at least 5", n, files)
	}
}

// BenchmarkChain runs the full chain over the shared templates for a header request (first
// identifier matches) and for a request only anonymous matches.
func BenchmarkChain(b *testing.B) {
	c, err := config.Parse("sidecar.ini", []byte("[sip]\nidentify = header, ip, username, anonymous\n[identify]\nip = 192.0.2.0/24 => trunk\nusername-prefix = user-\n"))
	if err != nil {
		b.Fatal(err)
	}
	ch, err := Chain(c, idtest.Set(b, idtest.Templates))
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name string
		req  *request.Request
	}{
		{"header", idtest.Request("127.0.0.1:5060", "alice", "X-Caller-Template", "subscriber;user=alice")},
		{"anonymous", idtest.Request("127.0.0.1:5060", "mallory")},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ch.Identify(context.Background(), bc.req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
