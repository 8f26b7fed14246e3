package dialplan

import (
	"strings"
	"testing"
	"testing/fstest"
)

// TestSignallingCheck is every signalling app's load-time check (App.Check and the Goto
// targets): literal arguments Run would reject fail at load, templated ones are left to the
// call.
func TestSignallingCheck(t *testing.T) {
	tests := []struct {
		call    string
		wantErr string // substring; "" means the line loads
	}{
		{"Hangup()", ""},
		{"Hangup(17)", ""},
		{"Hangup({{ .Header \"X-Cause\" }})", ""},
		{"Hangup(abc)", `extensions.conf:2: Hangup: bad hangup cause "abc": want a number from 1 to 127`},
		{"Hangup(0)", "Hangup: bad hangup cause"},
		{"Busy()", ""},
		{"Busy(5)", ""},
		{"Busy({{ .To.User }})", ""},
		{"Busy(soon)", `Busy: bad seconds "soon": want a number from 0 to 3600`},
		{"Congestion(2.5)", ""},
		{"Congestion(3601)", "Congestion: bad seconds"},
		{"Ringing()", ""},
		{"Ringing(1)", "Ringing: want 0 arguments, got 1"},
		{"Wait(1.5)", ""},
		{"Wait({{ .To.User }})", ""},
		{"Wait(x)", `Wait: bad seconds "x"`},
		{"Set(X=1)", ""},
		{"Set({{ .To.User }}=1)", ""},
		{"Set(9X=1)", `Set: invalid variable name "9X"`},
		{"Set(X)", "Set: want NAME=value"},
		{"Goto(1)", ""},
		{"Goto(c,100,1)", ""},
		{"Goto({{ .To.User }},1)", ""},
		{"Goto(d,100,1)", `Goto: unknown context "d"`},
		{"Goto(nowhere)", `Goto: no priority or label "nowhere"`},
		{"GotoIf(1?1:1)", ""},
		{"GotoIf({{ .To.User }}?c,100,1)", ""},
		{"GotoIf(1?d,1,1)", `GotoIf: unknown context "d"`},
		{"GotoIf(1)", "GotoIf: want condition?"},
		{"Transfer(sip:alice@example.com)", ""},
		{"Transfer({{ .Header \"X-Target\" }})", ""},
		{"Transfer(alice)", `Transfer: target "alice" is not a sip: or sips: URI`},
		{"Transfer(sip:)", `Transfer: target "sip:" has no host`},
		{"NoOp()", ""},
		{"NoOp(a,b,c)", ""},
		{"Log(NOTICE,hello, world)", ""},
		{"Log({{ .To.User }},x)", ""},
		{"Log(LOUD,x)", `Log: unknown level "LOUD"`},
		{"Log(x)", "Log: want 2 arguments, got 1"},
		{"Hangpu()", `unknown app "Hangpu" (did you mean "Hangup"?)`},
		{"goto(1)", ""},
	}
	reg := testRegistry(t)
	for _, tt := range tests {
		t.Run(tt.call, func(t *testing.T) {
			fsys := fstest.MapFS{FileName: {Data: []byte("[c]\nexten => 100,1," + tt.call + "\n")}}
			var got string
			if _, err := LoadFS(fsys, ".", reg); err != nil {
				got = err.Error()
			}
			switch {
			case tt.wantErr == "" && got != "":
				t.Errorf("error %q, want none", got)
			case tt.wantErr != "" && !strings.Contains(got, tt.wantErr):
				t.Errorf("error %q, want it to contain %q", got, tt.wantErr)
			}
		})
	}
}

// TestEveryAppIsChecked fails when a registered app that takes arguments has no load-time
// check, so a new app cannot skip validation by accident. NoOp takes anything; Goto and
// GotoIf are checked against the whole plan.
func TestEveryAppIsChecked(t *testing.T) {
	reg := testRegistry(t)
	for _, name := range reg.Names() {
		a, _ := reg.Lookup(name)
		if a.MaxArgs == 0 || a.Check != nil || a.checkPlan != nil || name == "NoOp" {
			continue
		}
		t.Errorf("%s takes arguments but has no Check", name)
	}
}
