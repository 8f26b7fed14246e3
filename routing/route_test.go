package routing_test

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"testing"

	"github.com/sidecar-voip/sidecar/config"
	"github.com/sidecar-voip/sidecar/identify"
	"github.com/sidecar-voip/sidecar/internal/sipstatus"
	"github.com/sidecar-voip/sidecar/routing"
)

const routeTemplates = `[sub]
user = {{ .From.User }}
context = internal
mailbox-pin = {{ .Header "X-Pin" }}

[box]
user = {{ .RURI.User }}
context = boxes

[plain]
user = {{ .RURI.User }}
`

const routeDialplan = `[internal]
exten => _1XXX,1,Set(TARGET=sip:{{ .Exten }}@192.0.2.9)
 same => n,Log(NOTICE,pin {{ .Header "X-Pin" }} from {{ .Caller.User }})
 same => n,Transfer({{ .Var "TARGET" }})

[boxes]
exten => _X.,1,Busy()

[default]
exten => _X.,1,Congestion()
`

// loadBundle loads the route test files with [sip] identify = header, anonymous.
func loadBundle(t testing.TB, mutate func(*config.Config), files map[string]string) *routing.Bundle {
	t.Helper()
	cfg := config.Default()
	cfg.SIP.Identify = []string{"header"}
	if mutate != nil {
		mutate(cfg)
	}
	if files == nil {
		files = map[string]string{"t.conf": routeTemplates, "extensions.conf": routeDialplan}
	}
	b, d := routing.Load(routing.Options{Config: cfg, Dir: writeDir(t, files), Apps: registry(t)})
	if err := d.Err(); err != nil {
		t.Fatalf("load: %v", err)
	}
	return b
}

// invite returns an INVITE to exten with the given extra header lines ("Name: value\n").
func invite(exten, headers string) []byte {
	return []byte("INVITE sip:" + exten + "@sidecar.example SIP/2.0\n" +
		"Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-1\n" +
		"From: \"Alice\" <sip:alice@example.com>;tag=abc\n" +
		"To: <sip:" + exten + "@example.com>\n" +
		"Call-ID: c1@x\nCSeq: 1 INVITE\nMax-Forwards: 70\n" + headers + "\n")
}

var loopback = netip.MustParseAddrPort("127.0.0.1:5060")

// TestRouteLeavesAttempts: Route, the call path, routes as Trace does but records no
// attempts.
func TestRouteLeavesAttempts(t *testing.T) {
	b := loadBundle(t, nil, nil)
	for _, hdrs := range []string{"X-Caller-Template: sub\nX-Callee-Template: box\nX-Pin: 4321\n", ""} {
		req, err := routing.ParseRequest(invite("1002", hdrs), loopback, "udp")
		if err != nil {
			t.Fatal(err)
		}
		traced, terr := b.Trace(context.Background(), req)
		rt, err := b.Route(context.Background(), req)
		if fmt.Sprint(err) != fmt.Sprint(terr) || rt.Attempts != nil || len(traced.Attempts) != 1 ||
			rt.Match.Identifier != traced.Match.Identifier || rt.Context != traced.Context || rt.Exten != traced.Exten {
			t.Errorf("%q: Route = %+v, %v; Trace = %+v, %v", hdrs, rt, err, traced, terr)
		}
	}
}

func TestRoute(t *testing.T) {
	b := loadBundle(t, nil, nil)
	ctx := context.Background()
	route := func(raw []byte) (routing.Routing, error) {
		t.Helper()
		req, err := routing.ParseRequest(raw, loopback, "udp")
		if err != nil {
			t.Fatal(err)
		}
		return b.Trace(ctx, req)
	}

	rt, err := route(invite("1002", "X-Caller-Template: sub\nX-Callee-Template: box\nX-Pin: 4321\n"))
	if err != nil {
		t.Fatalf("Route: %v", err)
	}
	if rt.Match.Identifier != "header" || rt.Match.Caller.Name != "sub" || rt.Match.Callee.Name != "box" {
		t.Errorf("match = %+v; want header, sub, box", rt.Match)
	}
	if rt.Caller == nil || rt.Caller.User != "alice" || rt.Callee == nil || rt.Callee.User != "1002" {
		t.Errorf("profiles = %+v, %+v", rt.Caller, rt.Callee)
	}
	if rt.Context != "internal" || rt.Exten != "1002" || rt.Plan != b.Plan() || rt.Request == nil {
		t.Errorf("context, exten = %q, %q; plan is the bundle's: %v", rt.Context, rt.Exten, rt.Plan == b.Plan())
	}
	if len(rt.Attempts) != 1 || rt.Attempts[0].Outcome != identify.OutcomeMatched {
		t.Errorf("attempts = %+v", rt.Attempts)
	}

	// The callee's context when the caller has none, else [sip] default-context.
	if rt, err := route(invite("1002", "X-Callee-Template: box\n")); err != nil || rt.Caller != nil || rt.Context != "boxes" {
		t.Errorf("callee only: context %q, caller %v, err %v; want boxes, nil", rt.Context, rt.Caller, err)
	}
	if rt, err := route(invite("1002", "X-Callee-Template: plain\n")); err != nil || rt.Context != "default" {
		t.Errorf("no context: %q, %v; want default", rt.Context, err)
	}

	// No identifier matches: ErrNoMatch, the attempts kept, no match.
	rt, err = route(invite("1002", ""))
	if !errors.Is(err, identify.ErrNoMatch) || rt.Match.Identifier != "" || len(rt.Attempts) != 1 {
		t.Errorf("no headers: err %v, match %+v, attempts %d; want ErrNoMatch, none, 1", err, rt.Match, len(rt.Attempts))
	}
	// A rejection keeps its SIP answer.
	_, err = route(invite("1002", "X-Caller-Template: nosuch\n"))
	var se *sipstatus.Error
	if !errors.As(err, &se) || se.Code < 400 {
		t.Errorf("unknown template: %v; want a *sipstatus.Error", err)
	}
	// A profile that cannot be built is the templates' fault: 500, naming role and template.
	rt, err = route(invite("1002", "X-Caller-Template: sub\nX-Pin: 12x\n"))
	var be *routing.BuildError
	if !errors.As(err, &be) || sipstatus.Answer(err).Code != 500 || be.Template != "sub" || be.Role != "caller" {
		t.Fatalf("bad PIN: %v; want a *BuildError of the caller's sub", err)
	}
	if rt.Match.Identifier != "header" || rt.Caller != nil {
		t.Errorf("bad PIN: match %+v, caller %v; want the match and no profile", rt.Match, rt.Caller)
	}
}

func TestLiveSwaps(t *testing.T) {
	first := loadBundle(t, nil, nil)
	second := loadBundle(t, func(c *config.Config) { c.SIP.DefaultContext = "other" }, nil)
	live := routing.NewLive(first)
	req, err := routing.ParseRequest(invite("1002", "X-Callee-Template: plain\n"), loopback, "udp")
	if err != nil {
		t.Fatal(err)
	}
	before, err := live.Route(context.Background(), req)
	if err != nil || before.Context != "default" || before.Plan != first.Plan() {
		t.Fatalf("before the swap: %q, %v", before.Context, err)
	}
	live.Store(second)
	after, err := live.Route(context.Background(), req)
	if err != nil || after.Context != "other" || after.Plan != second.Plan() || live.Current() != second {
		t.Errorf("after the swap: %q, %v; want the new bundle's default-context", after.Context, err)
	}
	if before.Plan != first.Plan() {
		t.Error("a routed call lost its plan in the swap")
	}
	var _ routing.Router = live
	var _ routing.Router = first
}
