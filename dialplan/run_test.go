package dialplan

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sidecar-voip/sidecar/internal/sipstatus"
	"github.com/sidecar-voip/sidecar/profile"
	"github.com/sidecar-voip/sidecar/request"
)

// testRegistry is RegisterSignalling plus an Answer app standing in for the media issue's.
func testRegistry(t testing.TB) *Registry {
	t.Helper()
	reg := NewRegistry()
	if err := RegisterSignalling(reg); err != nil {
		t.Fatal(err)
	}
	err := reg.Register(App{Name: "Answer", Run: func(ctx context.Context, c *Call, _ []string) (Result, error) {
		return Next(), c.Answer(ctx)
	}})
	if err != nil {
		t.Fatal(err)
	}
	return reg
}

func compileText(t testing.TB, text string) *Plan {
	t.Helper()
	p, err := LoadFS(fstest.MapFS{"extensions.conf": {Data: []byte(text)}}, ".", testRegistry(t))
	if err != nil {
		t.Fatalf("compile:\n%v", err)
	}
	return p
}

func TestRun(t *testing.T) {
	const conf = `
[main]
exten => busy,1,Busy()
exten => cong,1,Congestion()
exten => ring,1,Ringing()
 same => n,Hangup(17)
exten => xfer,1,Transfer({{ .Callee.Location }})
exten => xfer-none,1,Transfer({{ .Callee.Location }})
 same => n,Hangup({{ if eq (.Var "TRANSFERSTATUS") "FAILURE" }}20{{ end }})
exten => xfer-answered,1,Answer()
 same => n,Transfer(sip:a@b)
exten => fall,1,NoOp(nothing)
exten => fall-answered,1,Answer()
exten => hang,1,Hangup()
exten => hang-answered,1,Answer()
 same => n,Hangup(17)
exten => busy-answered,1,Answer()
 same => n,Busy(0.01)
exten => set,1,Set(GREETING=hi, {{ .From.User }}={{ .Var "PROFILEVAR" }})
 same => n,Log(NOTICE,{{ .Var "GREETING" }})
 same => n,Hangup({{ .Var "CAUSE" }})
exten => goto,1,Goto(target)
 same => n,Hangup(1)
 same => n(target),Goto(other,200,1)
exten => gotoif,1,GotoIf({{ .Var "X" }}?yes:no)
 same => n(yes),Hangup(17)
 same => n(no),Hangup(34)
exten => gotoif-true-only,1,GotoIf(1?yes)
 same => n,Hangup(1)
 same => n(yes),Hangup(21)
exten => gotoif-false-skip,1,GotoIf(0?yes)
 same => n,Hangup(22)
 same => n(yes),Hangup(21)
exten => gotoif-bool,1,GotoIf({{ .HasCaller }}?yes:no)
 same => n(yes),Hangup(17)
 same => n(no),Hangup(18)
exten => badtarget,1,Goto({{ .Var "NOWHERE" }}x)
exten => _9.,1,Hangup(28)
include => inc

[other]
exten => 200,1,Congestion()

[inc]
exten => 300,1,Hangup(19)
exten => busy,1,Hangup(1) ; never reached: main's own busy comes first
`
	p := compileText(t, conf)
	callee := &profile.Profile{Location: "sip:bob@192.0.2.7:5062;transport=tcp"}
	caller := &profile.Profile{Vars: []profile.Var{{Name: "PROFILEVAR", Value: "caller"}, {Name: "CAUSE", Value: "21"}}}
	calleeVars := &profile.Profile{Vars: []profile.Var{{Name: "PROFILEVAR", Value: "callee"}}}
	tests := []struct {
		exten          string
		caller, callee *profile.Profile
		vars           map[string]string
		want           string // recorder events
		trace          []string
		err            error
	}{
		{exten: "busy", want: "reject 486 Busy Here", trace: []string{"main,busy,1: Busy()"}},
		{exten: "cong", want: "reject 503 Service Unavailable"},
		{exten: "ring", want: "progress 180\nreject 486 Busy Here"},
		{exten: "xfer", callee: callee, want: "redirect sip:bob@192.0.2.7:5062;transport=tcp",
			trace: []string{"main,xfer,1: Transfer(sip:bob@192.0.2.7:5062;transport=tcp)"}},
		{exten: "xfer-none", want: "reject 480 Temporarily Unavailable"},
		{exten: "xfer-answered", want: "answer\nbye", err: errAny},
		{exten: "fall", want: "reject 603 Decline"},
		{exten: "fall-answered", want: "answer\nbye"},
		{exten: "hang", want: "reject 603 Decline"},
		{exten: "hang-answered", want: "answer\nbye"},
		{exten: "busy-answered", want: "answer\nbye"},
		{exten: "set", caller: caller, callee: calleeVars, want: "reject 403 Forbidden", trace: []string{
			"main,set,1: Set(GREETING=hi, 1001=callee)",
			"main,set,2: Log(NOTICE,hi, 1001=callee)",
			"main,set,3: Hangup(21)",
		}},
		{exten: "goto", want: "reject 503 Service Unavailable", trace: []string{
			"main,goto,1: Goto(target)", "main,goto,3: Goto(other,200,1)", "other,200,1: Congestion()",
		}},
		{exten: "gotoif", want: "reject 503 Service Unavailable"},
		{exten: "gotoif-true-only", want: "reject 403 Forbidden"},
		{exten: "gotoif-false-skip", want: "reject 410 Gone"},
		{exten: "gotoif-bool", want: "reject 408 Request Timeout"},
		{exten: "gotoif-bool", caller: caller, want: "reject 486 Busy Here"},
		{exten: "badtarget", want: "reject 500 Server Internal Error", err: ErrBadTarget},
		{exten: "9123", want: "reject 484 Address Incomplete"},
		{exten: "300", want: "reject 480 Temporarily Unavailable", trace: []string{"main,300,1: Hangup(19)"}},
		{exten: "nothing", want: "reject 404 Not Found", err: ErrNoExtension},
	}
	for _, tc := range tests {
		t.Run(tc.exten, func(t *testing.T) {
			ch := newRecorder(nil)
			ch.caller, ch.callee = tc.caller, tc.callee
			trace, err := ch.run(context.Background(), p, "main", tc.exten, nil)
			switch {
			case tc.err == errAny && err == nil, tc.err == nil && err != nil && !errors.Is(err, ErrEnded),
				tc.err != nil && tc.err != errAny && !errors.Is(err, tc.err):
				t.Errorf("err = %v, want %v", err, tc.err)
			}
			if diff := cmp.Diff(tc.want, ch.log()); diff != "" {
				t.Errorf("channel events (-want +got):\n%s", diff)
			}
			if tc.trace != nil {
				var got []string
				for _, s := range trace {
					got = append(got, s.String())
				}
				if diff := cmp.Diff(tc.trace, got); diff != "" {
					t.Errorf("trace (-want +got):\n%s", diff)
				}
			}
		})
	}
}

var errAny = errors.New("any error")

func TestRunNoContext(t *testing.T) {
	p := compileText(t, "[a]\nexten => 1,1,Hangup()\n")
	ch := newRecorder(nil)
	_, err := ch.run(context.Background(), p, "missing", "1", nil)
	if !errors.Is(err, ErrNoContext) {
		t.Errorf("err = %v, want ErrNoContext", err)
	}
	if got := ch.log(); got != "reject 404 Not Found" {
		t.Errorf("events = %q", got)
	}
}

func TestRunLoopBound(t *testing.T) {
	tests := map[string]string{
		"jumps": "[a]\nexten => 1,1(top),Goto(top)\n",
		"steps": "[a]\nexten => 1,1(top),NoOp()\n same => n,Goto(top)\n",
	}
	for name, conf := range tests {
		t.Run(name, func(t *testing.T) {
			p := compileText(t, conf)
			ch := newRecorder(nil)
			trace, err := ch.run(context.Background(), p, "a", "1", nil)
			if !errors.Is(err, ErrLoop) {
				t.Fatalf("err = %v, want ErrLoop", err)
			}
			if got := ch.log(); got != "reject 500 Server Internal Error" {
				t.Errorf("events = %q", got)
			}
			if len(trace) > MaxSteps {
				t.Errorf("ran %d steps, more than MaxSteps", len(trace))
			}
		})
	}
}

func TestRunWaitHonoursCancel(t *testing.T) {
	p := compileText(t, "[a]\nexten => 1,1,Ringing()\n same => n,Wait(3600)\n same => n,Hangup()\n")
	ch := newRecorder(nil)
	ch.progress = make(chan int, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := ch.run(ctx, p, "a", "1", nil)
		done <- err
	}()
	<-ch.progress
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	if got := ch.log(); got != "progress 180" {
		t.Errorf("events = %q: nothing may be sent after the remote hung up", got)
	}
}

func TestRunWaitFraction(t *testing.T) {
	p := compileText(t, "[a]\nexten => 1,1,Wait(0.01)\n same => n,Hangup(17)\n")
	ch := newRecorder(nil)
	if _, err := ch.run(context.Background(), p, "a", "1", nil); err != nil && !errors.Is(err, ErrEnded) {
		t.Fatal(err)
	}
	if got := ch.log(); got != "reject 486 Busy Here" {
		t.Errorf("events = %q", got)
	}
}

// A header value holding a comma and template syntax is data: it neither adds an argument nor
// executes.
func TestRunHeaderIsData(t *testing.T) {
	p := compileText(t, `[a]
exten => 1,1,Set(V={{ .Header "X-Evil" }})
 same => n,GotoIf({{ .Header "X-Evil" }}?yes:no)
 same => n(yes),Log(NOTICE,{{ .Header "X-Evil" }})
 same => n,Transfer({{ .Header "X-Evil" }})
 same => n(no),Hangup(17)
`)
	s := request.Sample()
	evil := `0,1?no:yes {{ .From.User }} ${X}`
	req := request.New("INVITE", s.RURI, s.From, s.To, "c1", s.Source, "udp",
		[]request.Field{{Name: "X-Evil", Value: evil}})
	ch := newRecorder(req)
	trace, err := ch.run(context.Background(), p, "a", "1", nil)
	if !errors.Is(err, ErrEnded) {
		t.Fatalf("err = %v, want ErrEnded (Hangup(17))", err)
	}
	want := []TraceStep{
		{Context: "a", Exten: "1", Priority: 1, App: "Set", Args: []string{"V", evil}},
		{Context: "a", Exten: "1", Priority: 2, App: "GotoIf", Args: []string{evil, "", "", "yes", "", "", "no"}},
		{Context: "a", Exten: "1", Priority: 5, App: "Hangup", Args: []string{"17"}},
	}
	if diff := cmp.Diff(want, []TraceStep(trace)); diff != "" {
		t.Errorf("trace (-want +got):\n%s", diff)
	}
	if got := ch.log(); got != "reject 486 Busy Here" {
		t.Errorf("events = %q", got)
	}
}

func TestContextFor(t *testing.T) {
	a, b, none := &profile.Profile{Context: "a"}, &profile.Profile{Context: "b"}, &profile.Profile{}
	tests := []struct {
		caller, callee *profile.Profile
		want           string
	}{
		{a, b, "a"}, {none, b, "b"}, {nil, b, "b"}, {nil, nil, "def"}, {none, none, "def"}, {a, nil, "a"},
	}
	for _, tc := range tests {
		if got := ContextFor(tc.caller, tc.callee, "def"); got != tc.want {
			t.Errorf("ContextFor(%v, %v) = %q, want %q", tc.caller, tc.callee, got, tc.want)
		}
	}
}

func TestCondition(t *testing.T) {
	for in, want := range map[string]bool{
		"": false, "0": false, " 0 ": false, "00": false, "0abc": false, "-0": false, "false": false,
		"FALSE": false, "1": true, "-1": true, "abc": true, "true": true, "10": true, "sip:x": true,
	} {
		if got := condition(in); got != want {
			t.Errorf("condition(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestShippedExtensionsCompile(t *testing.T) {
	reg := shippedRegistry(t)
	p, err := LoadFS(osDirFS(t, "../templates"), ".", reg)
	if err != nil {
		t.Fatalf("templates/extensions.conf:\n%v", err)
	}
	for _, c := range []string{"from-subscriber", "to-subscriber", "from-anonymous", "default"} {
		if !p.HasContext(c) {
			t.Errorf("shipped dialplan lacks context %q", c)
		}
	}
	loc := &profile.Profile{Location: "sip:1002@192.0.2.20:5060"}
	tests := []struct {
		context, exten string
		callee         *profile.Profile
		want           string
	}{
		{"from-subscriber", "*486", nil, "reject 486 Busy Here"},
		{"from-subscriber", "*503", nil, "reject 503 Service Unavailable"},
		{"from-subscriber", "*404", nil, "reject 404 Not Found"},
		{"from-subscriber", "*302*2000", nil, "redirect sip:2000@example.invalid"},
		{"from-subscriber", "*302", loc, "redirect sip:1002@192.0.2.20:5060"},
		{"from-subscriber", "*302", nil, "reject 480 Temporarily Unavailable"},
		{"from-subscriber", "1002", loc, "reject 480 Temporarily Unavailable"},
		{"from-subscriber", "1002", nil, "reject 404 Not Found"},
		{"from-anonymous", "1002", nil, "reject 404 Not Found"},
		{"from-anonymous", "*486", nil, "reject 404 Not Found"},
		{"to-subscriber", "1002", loc, "reject 480 Temporarily Unavailable"},
		{"default", "1002", loc, "reject 480 Temporarily Unavailable"},
	}
	for _, tc := range tests {
		ch := newRecorder(nil)
		ch.callee = tc.callee
		if _, err := ch.run(context.Background(), p, tc.context, tc.exten, nil); err != nil && !errors.Is(err, ErrEnded) {
			t.Errorf("%s,%s: %v", tc.context, tc.exten, err)
		}
		if got := ch.log(); got != tc.want {
			t.Errorf("%s,%s: events %q, want %q", tc.context, tc.exten, got, tc.want)
		}
	}
}

func TestSecretArgsMasked(t *testing.T) {
	reg := testRegistry(t)
	var got []string
	err := reg.Register(App{Name: "CheckPIN", MinArgs: 2, MaxArgs: 2, SecretArgs: []int{1},
		Run: func(_ context.Context, _ *Call, args []string) (Result, error) {
			got = args
			return Next(), nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	p, err := LoadFS(fstest.MapFS{"extensions.conf": {Data: []byte(
		"[a]\nexten => 1,1,CheckPIN({{ .Header \"X-MailBoxId\" }},{{ .Header \"X-MailBoxId\" }}99)\n")}}, ".", reg)
	if err != nil {
		t.Fatal(err)
	}
	var logBuf strings.Builder
	log := slog.New(slog.NewTextHandler(&logBuf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	trace, _ := p.Run(context.Background(), newRecorder(nil), "a", "1", log)
	if diff := cmp.Diff([]string{"1002", "100299"}, got); diff != "" {
		t.Errorf("app args (-want +got):\n%s", diff)
	}
	if s := trace.String(); s != "a,1,1: CheckPIN(1002,****)\n" {
		t.Errorf("trace = %q", s)
	}
	if strings.Contains(logBuf.String(), "100299") {
		t.Errorf("secret logged:\n%s", logBuf.String())
	}
	if !strings.Contains(logBuf.String(), "CheckPIN") {
		t.Errorf("step not logged:\n%s", logBuf.String())
	}
}

func statusErr(code int) error { return sipstatus.New(code, errors.New("media says no")) }

func TestAppErrorStatus(t *testing.T) {
	reg := testRegistry(t)
	err := reg.Register(App{Name: "Fail", MinArgs: 1, MaxArgs: 1, Run: func(_ context.Context, _ *Call, args []string) (Result, error) {
		switch args[0] {
		case "488":
			return Result{}, fmt.Errorf("open media: %w", statusErr(488))
		case "200":
			return Result{}, statusErr(200)
		}
		return Result{}, errors.New("plain")
	}})
	if err != nil {
		t.Fatal(err)
	}
	p, err := LoadFS(fstest.MapFS{"extensions.conf": {Data: []byte("[a]\nexten => _X.,1,Fail({{ .Exten }})\n")}}, ".", reg)
	if err != nil {
		t.Fatal(err)
	}
	for exten, want := range map[string]string{
		"488": "reject 488 Not Acceptable Here",
		"200": "reject 500 Server Internal Error",
		"12":  "reject 500 Server Internal Error",
	} {
		ch := newRecorder(nil)
		if _, err := ch.run(context.Background(), p, "a", exten, nil); err == nil {
			t.Errorf("%s: no error", exten)
		}
		if got := ch.log(); got != want {
			t.Errorf("%s: events %q, want %q", exten, got, want)
		}
	}
}

// TestPriorityFromLaterMatch checks Asterisk's priority lookup: when the best-matching
// extension lacks the next priority, the other matching extensions of the same context are
// tried (in match order) before the includes.
func TestPriorityFromLaterMatch(t *testing.T) {
	p := compileText(t, `
[a]
exten => _1XX,1,NoOp(one)
exten => _X.,2,Hangup(17)
exten => _X.,3,Hangup(18)
include => inc

[b]
exten => _1XX,1,NoOp(one)
exten => _2XX,2,Hangup(19)
include => inc

[inc]
exten => _X.,2,Hangup(21)
`)
	tests := []struct {
		context, exten, want string
		trace                []string
	}{
		{"a", "123", "reject 486 Busy Here", []string{"a,123,1: NoOp(one)", "a,123,2: Hangup(17)"}},
		{"b", "123", "reject 403 Forbidden", []string{"b,123,1: NoOp(one)", "b,123,2: Hangup(21)"}},
		{"a", "555", "reject 404 Not Found", nil},
	}
	for _, tc := range tests {
		ch := newRecorder(nil)
		trace, _ := ch.run(context.Background(), p, tc.context, tc.exten, nil)
		if got := ch.log(); got != tc.want {
			t.Errorf("%s,%s: events %q, want %q", tc.context, tc.exten, got, tc.want)
		}
		var got []string
		for _, s := range trace {
			got = append(got, s.String())
		}
		if diff := cmp.Diff(tc.trace, got); diff != "" {
			t.Errorf("%s,%s: trace (-want +got):\n%s", tc.context, tc.exten, diff)
		}
	}
}
