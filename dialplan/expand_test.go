package dialplan

import (
	"context"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
	"github.com/sidecar-voip/sidecar/profile"
	"github.com/sidecar-voip/sidecar/request"
)

func TestExpand(t *testing.T) {
	reg := testRegistry(t)
	ran := false
	err := reg.Register(App{Name: "CheckPIN", MinArgs: 2, MaxArgs: 2, SecretArgs: []int{1},
		Run: func(context.Context, *Call, []string) (Result, error) {
			ran = true
			return Next(), nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	const conf = `[main]
exten => _1XXX,1,Set(WHO={{ .Caller.User }}-{{ .Var "GREETING" }})
 same => n(greet),NoOp({{ .Var "WHO" }},{{ .Exten }},{{ .Context }},{{ .Header "X-Foo" }})
 same => n,CheckPIN({{ .Caller.MailboxID }},{{ .Header "X-Pin" }})
 same => n,NoOp(pin {{ .Header "X-Pin" }} here,{{ .Var "TRANSFERSTATUS" }})
 same => n,NoOp({{ if eq .Exten "1002" }}{{ fail "bad exten" }}{{ end }})
 same => n,Hangup()
`
	p, err := LoadFS(fstest.MapFS{"extensions.conf": {Data: []byte(conf)}}, ".", reg)
	if err != nil {
		t.Fatal(err)
	}
	req := request.New("INVITE", request.URI{}, request.Address{}, request.Address{}, "c1", request.Endpoint{}, "udp",
		[]request.Field{{Name: "X-Foo", Value: "bar"}, {Name: "X-Pin", Value: "4321"}})
	caller := &profile.Profile{User: "alice", MailboxID: "1001", MailboxPIN: profile.NewSecret("4321"),
		Vars: []profile.Var{{Name: "GREETING", Value: "hi"}}}
	type row struct {
		Prio  int
		Label string
		Call  string
		Err   string
	}
	list := func(steps []ExpandedStep) []row {
		var out []row
		for _, s := range steps {
			r := row{Prio: s.Priority, Label: s.Label, Call: formatCall(s.App, s.Args)}
			if s.Err != nil {
				r.Err = s.Err.Error()
				r.Call = ""
			}
			out = append(out, r)
		}
		return out
	}
	matched, steps, ok := p.Expand("main", "1002", DryRun{Request: req, Caller: caller})
	if !ok || matched != "_1XXX" {
		t.Fatalf("Expand = %q, %v; want _1XXX, true", matched, ok)
	}
	want := []row{
		{Prio: 1, Call: "Set(WHO=alice-hi)"},
		{Prio: 2, Label: "greet", Call: "NoOp(alice-hi,1002,main,bar)"},
		{Prio: 3, Call: "CheckPIN(1001,****)"},
		{Prio: 4, Call: "NoOp(****,)"},
		{Prio: 5, Err: "argument 1 of NoOp: "},
		{Prio: 6, Call: "Hangup()"},
	}
	got := list(steps)
	if len(got) == len(want) && strings.HasPrefix(got[4].Err, want[4].Err) && strings.Contains(got[4].Err, "bad exten") {
		got[4].Err = want[4].Err // the template engine's own wording follows
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("expanded steps (-want +got):\n%s", diff)
	}
	if ran {
		t.Error("Expand ran an application")
	}

	_, steps, _ = p.Expand("main", "1002", DryRun{Request: req, Caller: caller, ShowSecrets: true})
	if got := formatCall(steps[2].App, steps[2].Args); got != "CheckPIN(1001,4321)" {
		t.Errorf("with ShowSecrets: %s, want the PIN", got)
	}
	if _, _, ok := p.Expand("main", "99", DryRun{}); ok {
		t.Error("Expand matched an extension that does not exist")
	}
	if _, _, ok := p.Expand("nosuch", "1002", DryRun{}); ok {
		t.Error("Expand matched in a context that does not exist")
	}
}
