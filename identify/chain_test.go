package identify_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sidecar-voip/sidecar/identify"
	"github.com/sidecar-voip/sidecar/identify/internal/idtest"
	"github.com/sidecar-voip/sidecar/internal/sipstatus"
	"github.com/sidecar-voip/sidecar/profile"
	"github.com/sidecar-voip/sidecar/request"
)

// fake is a scripted Identifier. The chain's contract is with any Identifier, so these tests
// script the outcomes (the real identifiers' chains are tested in identify/standard).
type fake struct {
	name  string
	res   identify.Result
	err   error
	panic bool
	calls *[]string
}

func (f fake) Name() string { return f.name }

func (f fake) Identify(context.Context, *request.Request) (identify.Result, error) {
	if f.calls != nil {
		*f.calls = append(*f.calls, f.name)
	}
	if f.panic {
		panic("boom")
	}
	return f.res, f.err
}

func TestChain(t *testing.T) {
	match := func(name string) identify.Result { return identify.Result{Caller: profile.Match{Name: name}} }
	reject := sipstatus.WithReason(403, "Unknown Template", errors.New("caller template \"x\""))
	tests := []struct {
		name       string
		ids        []fake
		wantCalls  []string
		want       identify.Result
		wantStatus int
		wantReason string
		wantText   string
	}{
		{"first match wins", []fake{{name: "a", err: identify.ErrNoMatch}, {name: "b", res: match("tb")}, {name: "c", res: match("tc")}},
			[]string{"a", "b"}, identify.Result{Identifier: "b", Caller: profile.Match{Name: "tb"}}, 0, "", ""},
		{"wrapped no match passes", []fake{{name: "a", err: errors.Join(identify.ErrNoMatch, errors.New("why"))}, {name: "b", res: match("tb")}},
			[]string{"a", "b"}, identify.Result{Identifier: "b", Caller: profile.Match{Name: "tb"}}, 0, "", ""},
		{"rejection stops the chain", []fake{{name: "a", err: reject}, {name: "b", res: match("tb")}},
			[]string{"a"}, identify.Result{Identifier: "a"}, 403, "Unknown Template", `identify a: 403 Unknown Template: caller template "x"`},
		{"plain error is 500", []fake{{name: "a", err: errors.New("disk on fire")}, {name: "b", res: match("tb")}},
			[]string{"a"}, identify.Result{Identifier: "a"}, 500, "Server Internal Error", "identify a: 500 Server Internal Error: disk on fire"},
		{"panic is 500", []fake{{name: "a", panic: true}, {name: "b", res: match("tb")}},
			[]string{"a"}, identify.Result{Identifier: "a"}, 500, "Server Internal Error", "identifier a panicked: boom"},
		{"none matched", []fake{{name: "a", err: identify.ErrNoMatch}, {name: "b", err: identify.ErrNoMatch}},
			[]string{"a", "b"}, identify.Result{}, 404, "Not Found", "identify: no match (tried a, b)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls []string
			var ids []identify.Identifier
			for _, f := range tt.ids {
				f.calls = &calls
				ids = append(ids, f)
			}
			got, err := identify.NewChain(ids...).Identify(context.Background(), idtest.Request("127.0.0.1:1", "u"))
			if d := cmp.Diff(tt.wantCalls, calls); d != "" {
				t.Errorf("calls (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("result (-want +got):\n%s", d)
			}
			status, reason := sipstatus.Of(identify.Answer(err, 404))
			if status != tt.wantStatus || reason != tt.wantReason {
				t.Errorf("StatusOf = %d %q, want %d %q (err %v)", status, reason, tt.wantStatus, tt.wantReason, err)
			}
			if tt.wantText != "" && (err == nil || !strings.Contains(err.Error(), tt.wantText)) {
				t.Errorf("error %v lacks %q", err, tt.wantText)
			}
		})
	}
}

func TestChainCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var calls []string
	_, err := identify.NewChain(fake{name: "a", res: identify.Result{}, calls: &calls}).Identify(ctx, idtest.Request("127.0.0.1:1", "u"))
	if !errors.Is(err, context.Canceled) || len(calls) != 0 {
		t.Errorf("err = %v, calls = %v; want context.Canceled and no calls", err, calls)
	}
	// The caller gave up (CANCEL, BYE) or the service drains: the one mapping answers 487,
	// as the SIP service always did for a cancelled call.
	if st, _ := sipstatus.Of(identify.Answer(err, 403)); st != 487 {
		t.Errorf("a cancelled identification answers %d, want 487", st)
	}
}

func TestTrace(t *testing.T) {
	ch := identify.NewChain(
		fake{name: "a", err: identify.ErrNoMatch},
		fake{name: "b", res: identify.Result{Callee: profile.Match{Name: "t"}}},
		fake{name: "c", err: identify.ErrNoMatch},
	)
	attempts, res, err := ch.Trace(context.Background(), idtest.Request("127.0.0.1:1", "u"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range attempts {
		got = append(got, a.Identifier+":"+a.Outcome)
	}
	if d := cmp.Diff([]string{"a:no match", "b:matched", "c:not reached"}, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	if res.Identifier != "b" || attempts[1].Result.Callee.Name != "t" {
		t.Errorf("result %+v, attempt %+v", res, attempts[1])
	}
}

func TestRegistry(t *testing.T) {
	r := identify.NewRegistry()
	ok := func(identify.Deps) (identify.Identifier, error) { return fake{name: "a"}, nil }
	if err := r.Add("a", ok); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		f    identify.Factory
		want string
	}{{"a", ok, "already registered"}, {"", ok, "empty name"}, {"b", nil, "nil factory"}} {
		if err := r.Add(tt.name, tt.f); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Add(%q) = %v, want %q", tt.name, err, tt.want)
		}
	}
	if err := r.Add("liar", func(identify.Deps) (identify.Identifier, error) { return fake{name: "other"}, nil }); err != nil {
		t.Fatal(err)
	}
	if err := r.Add("broken", func(identify.Deps) (identify.Identifier, error) { return nil, errors.New("bad config") }); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		names []string
		want  string
	}{
		{nil, "no identifiers listed"},
		{[]string{"zz"}, `unknown identifier "zz" (known: a, liar, broken)`},
		{[]string{"a", "a"}, "a is listed twice"},
		{[]string{"liar"}, `build identifier liar: factory returned an identifier named "other"`},
		{[]string{"a", "broken"}, "build identifier broken: bad config"},
	} {
		if _, err := r.Chain(tt.names, identify.Deps{}); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Chain(%v) = %v, want %q", tt.names, err, tt.want)
		}
	}
	ch, err := r.Chain([]string{"a"}, identify.Deps{})
	if err != nil || cmp.Diff([]string{"a"}, ch.Names()) != "" {
		t.Errorf("Chain([a]) = %v, %v", ch, err)
	}
}

func TestAnswer(t *testing.T) {
	tests := []struct {
		err    error
		status int
		reason string
	}{
		{nil, 0, ""},
		{identify.ErrNoMatch, 403, "Forbidden"},
		{sipstatus.WithReason(400, "Bad Template Header", nil), 400, "Bad Template Header"},
		{errors.New("x"), 500, "Server Internal Error"},
	}
	for _, tt := range tests {
		s, r := sipstatus.Of(identify.Answer(tt.err, 403))
		if s != tt.status || r != tt.reason {
			t.Errorf("Of(Answer(%v)) = %d %q, want %d %q", tt.err, s, r, tt.status, tt.reason)
		}
	}
	if s, r := sipstatus.Of(identify.Answer(identify.ErrNoMatch, 480)); s != 480 || r != "Temporarily Unavailable" {
		t.Errorf("no-match 480 = %d %q", s, r)
	}
}
