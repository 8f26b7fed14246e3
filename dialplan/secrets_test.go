package dialplan

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/sidecar-voip/sidecar/profile"
)

// TestPINNeverInTraceOrLog runs steps that try every way of getting a mailbox PIN into an
// argument and checks that neither the trace, nor a Debug log, nor the returned error
// carries it.
func TestPINNeverInTraceOrLog(t *testing.T) {
	const callerPIN, calleePIN = "4321", "98765"
	reg := testRegistry(t)
	err := reg.Register(App{Name: "Fail", MinArgs: 1, MaxArgs: 1,
		Run: func(_ context.Context, _ *Call, args []string) (Result, error) {
			return Result{}, errors.New("bad value " + args[0])
		}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, step string }{
		{"field", `Set(PIN={{ .Caller.MailboxPIN }})`},
		{"printf s", `Set(PIN={{ printf "%s" .Caller.MailboxPIN }})`},
		{"printf d", `Set(PIN={{ printf "%d" .Caller.MailboxPIN }})`},
		{"printf v struct", `NoOp({{ printf "%+v" .Caller }})`},
		{"profile", `NoOp({{ .Caller }})`},
		{"callee json", `NoOp({{ .Callee | toJson }})`},
		{"digits var", `Set(D={{ .Var "DIGITS" }})`},
		{"digits inside text", `NoOp(you typed {{ .Var "DIGITS" }} ok)`},
		{"callee pin as var", `NoOp({{ .Var "CALLEE_DIGITS" }})`},
		{"app error", `Fail(x{{ .Var "DIGITS" }})`},
		{"bad jump", `Goto(a,{{ .Var "DIGITS" }},1)`},
		{"Log app", `Log(NOTICE,you typed {{ .Var "DIGITS" }})`},
		{"Log app callee", `Log(WARNING,{{ .Var "CALLEE_DIGITS" }})`},
		{"Hangup warning quotes its argument", `Hangup({{ .Var "DIGITS" }})`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := LoadFS(fstest.MapFS{"extensions.conf": {Data: []byte(
				"[a]\nexten => 1,1,NoOp(start)\n same => n," + tc.step + "\n same => n,NoOp(end)\n")}}, ".", reg)
			if err != nil {
				t.Fatal(err)
			}
			ch := newRecorder(nil)
			ch.caller = &profile.Profile{Template: "c", MailboxPIN: profile.NewSecret(callerPIN),
				Vars: []profile.Var{{Name: "DIGITS", Value: callerPIN}}}
			ch.callee = &profile.Profile{Template: "d", MailboxPIN: profile.NewSecret(calleePIN),
				Vars: []profile.Var{{Name: "CALLEE_DIGITS", Value: calleePIN}}}
			var logBuf strings.Builder
			log := slog.New(slog.NewTextHandler(&logBuf, &slog.HandlerOptions{Level: slog.LevelDebug}))
			trace, runErr := ch.run(context.Background(), p, "a", "1", log)
			if len(trace) < 2 {
				t.Fatalf("the step did not run: trace %q, error %v", trace.String(), runErr)
			}
			var errText string
			if runErr != nil {
				errText = runErr.Error()
				log.Info("call ended", "error", runErr)
			}
			log.Info("call", "dialplan", trace, "caller", ch.caller, "callee", ch.callee)
			for where, text := range map[string]string{
				"trace": trace.String(), "brief": trace.Brief(), "log": logBuf.String(), "error": errText,
			} {
				for _, pin := range []string{callerPIN, calleePIN} {
					if strings.Contains(text, pin) {
						t.Errorf("%s carries PIN %s:\n%s", where, pin, text)
					}
				}
			}
			if !strings.Contains(trace.String(), "****") {
				t.Errorf("trace does not show the mask:\n%s", trace.String())
			}
		})
	}
}

// TestSecretUnreachableFromTemplates checks that no template expression reads the PIN's
// value: a method or field that would return it fails at load time (file:line); index and
// slice, whose errors the dry run leaves to data, fail when the call runs, without the value.
func TestSecretUnreachableFromTemplates(t *testing.T) {
	for _, tc := range []struct {
		expr   string
		atLoad bool
	}{
		{`{{ .Caller.MailboxPIN.Reveal }}`, true},
		{`{{ .Caller.MailboxPIN.v }}`, true},
		{`{{ .Caller.MailboxPIN | upper }}`, true},
		{`{{ index .Caller.MailboxPIN 0 }}`, false},
		{`{{ slice .Callee.MailboxPIN 0 1 }}`, false},
	} {
		p, err := LoadFS(fstest.MapFS{"extensions.conf": {Data: []byte(
			"[a]\nexten => 1,1,NoOp(" + tc.expr + ")\n")}}, ".", testRegistry(t))
		if tc.atLoad {
			if err == nil || !strings.Contains(err.Error(), "extensions.conf:2") {
				t.Errorf("%s: load error %v, want one naming extensions.conf:2", tc.expr, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tc.expr, err)
		}
		ch := newRecorder(nil)
		ch.caller = &profile.Profile{MailboxPIN: profile.NewSecret("4321")}
		ch.callee = ch.caller
		_, err = ch.run(context.Background(), p, "a", "1", nil)
		if err == nil {
			t.Errorf("%s: ran", tc.expr)
		} else if strings.Contains(err.Error(), "4") {
			t.Errorf("%s: error %q shows part of the PIN", tc.expr, err)
		}
	}
}

func TestTraceBriefAndString(t *testing.T) {
	tr := Trace{{Context: "a", Exten: "1", Priority: 1, App: "NoOp", Args: []string{"x", "y"}},
		{Context: "a", Exten: "1", Priority: 2, App: "Set", Args: []string{"A", "b"}}}
	for _, tc := range []struct{ what, got, want string }{
		{"Brief", tr.Brief(), "a,1,1: NoOp | a,1,2: Set"},
		{"LogValue", tr.LogValue().String(), "a,1,1: NoOp | a,1,2: Set"},
		{"String", tr.String(), "a,1,1: NoOp(x,y)\na,1,2: Set(A=b)\n"},
	} {
		if tc.got != tc.want {
			t.Errorf("%s = %q, want %q", tc.what, tc.got, tc.want)
		}
	}
}

func TestMaskSecrets(t *testing.T) {
	args := []string{"1234", "x12345y", "12", "", "999"}
	got := maskSecrets(args, pinValues(&profile.Profile{MailboxPIN: profile.NewSecret("1234")},
		&profile.Profile{MailboxPIN: profile.NewSecret("12")}, nil))
	want := []string{"****", "****", "12", "", "999"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("maskSecrets = %q, want %q", got, want)
	}
	if args[0] != "1234" {
		t.Errorf("maskSecrets changed its input: %q", args)
	}
}
