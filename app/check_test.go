package app_test

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/sidecar-voip/sidecar/app"
	"github.com/sidecar-voip/sidecar/dialplan"
)

// compileLine compiles one extensions.conf priority line against the full registry (the
// signalling apps and these) and returns the error text, "" when it loads.
func compileLine(t *testing.T, call string) string {
	t.Helper()
	reg := dialplan.NewRegistry()
	if err := dialplan.RegisterSignalling(reg); err != nil {
		t.Fatal(err)
	}
	if err := app.Register(reg, app.Deps{}); err != nil {
		t.Fatal(err)
	}
	fsys := fstest.MapFS{"extensions.conf": {Data: []byte("[c]\nexten => 100,1," + call + "\n")}}
	if _, err := dialplan.LoadFS(fsys, ".", reg); err != nil {
		return err.Error()
	}
	return ""
}

// TestCheck is every media app's load-time check: literal arguments that Run would reject
// fail at load with "extensions.conf:2: App: ...", templated ones are left to the call.
func TestCheck(t *testing.T) {
	tests := []struct {
		call    string
		wantErr string // substring; "" means the line loads
	}{
		{"Answer()", ""},
		{"Answer(500)", ""},
		{"Answer({{ .Header \"X-Delay\" }})", ""},
		{"Answer(soon)", `extensions.conf:2: Answer: delay "soon": want milliseconds 0-10000`},
		{"Answer(10001)", "Answer: delay"},
		{"Answer(-1)", "Answer: delay"},
		{"Answer(1,2)", "Answer: want at most 1 argument, got 2"},

		{"Progress()", ""},
		{"Progress(x)", "Progress: want 0 arguments, got 1"},
		{"Echo()", ""},
		{"Echo(x)", "Echo: want 0 arguments, got 1"},

		{"Playback(hello)", ""},
		{"Playback(hello&digits/1,noanswer)", ""},
		{"Playback(hello,skip&noanswer)", ""},
		{"Playback({{ .To.User }})", ""},
		{"Playback(hello,{{ .To.User }})", ""},
		{"Playback({{ .To.User }},loud)", `Playback: unknown option "loud" (want noanswer or skip)`},
		{"Playback(hello,loud)", `Playback: unknown option "loud"`},
		{"Playback(../secret)", `Playback: sound not found: "../secret.wav" is not a .wav path`},
		{"Playback(/etc/passwd)", "is not a .wav path"},
		{"Playback(song.mp3)", `"song.mp3" is not a .wav path`},
		{"Playback(hello&&beep)", "Playback: sound not found: empty prompt name"},
		{"Playback()", "Playback: want 1 to 2 arguments, got 0"},

		{"PlayTones(busy)", ""},
		{"PlayTones(ringback,2.5)", ""},
		{"PlayTones({{ .To.User }},3)", ""},
		{"PlayTones(bussy)", `PlayTones: unknown tone "bussy" (want one of`},
		{"PlayTones(busy,long)", `PlayTones: duration "long": want seconds in (0, 600]`},
		{"PlayTones(busy,0)", "PlayTones: duration"},
		{"PlayTones(busy,601)", "PlayTones: duration"},
		{"PlayTones(busy,NaN)", "PlayTones: duration"},
		{"PlayTones({{ .To.User }},5s)", `PlayTones: duration "5s"`},

		{"Read(PIN)", ""},
		{"Read(PIN,beep,4)", ""},
		{"Read(PIN,beep,4,2.5)", ""},
		{"Read(PIN,beep,4,n,3,5)", ""},
		{"Read(PIN,beep,{{ .To.User }},x)", `Read: unknown option 'x' in "x" (want n, s or i)`},
		{"Read(PIN,beep,4,{{ .To.User }})", ""},
		{"Read({{ .To.User }},beep,4)", ""},
		{"Read(x,beep,lots)", `extensions.conf:2: Read: maxdigits "lots": want 0-255`},
		{"Read(x,beep,256)", "Read: maxdigits"},
		{"Read(x,beep,4,q)", `Read: unknown option 'q'`},
		{"Read(x,beep,4,n,11)", `Read: attempts "11": want 1-10`},
		{"Read(x,beep,4,n,1,301)", `Read: timeout "301": want seconds 0-300`},
		{"Read(1x,beep)", `Read: invalid variable name "1x"`},
		{"Read(x,../beep)", `Read: sound not found: "../beep.wav"`},
		{"Read(a,b,c,d,e,f,g)", "Read: want 1 to 6 arguments, got 7"},

		{"SayDigits(123)", ""},
		{"SayDigits(+1 555-0100)", ""},
		{"SayDigits({{ .From.User }})", ""},
		{"SayDigits(abc)", `SayDigits: "abc" has no digit to say (0-9, * and #)`},

		{"SayNumber(1234)", ""},
		{"SayNumber(-7,f)", ""},
		{"SayNumber({{ .From.User }})", ""},
		{"SayNumber(twelve)", `SayNumber: "twelve" is not an integer within ±999999999`},
		{"SayNumber(1000000000)", "SayNumber: \"1000000000\" is not an integer"},

		{"SendDTMF(12)", ""},
		{"SendDTMF(1w2*#ABCd,100,80)", ""},
		{"SendDTMF({{ .To.User }},100)", ""},
		{"SendDTMF(12,{{ .To.User }},50)", ""},
		{"SendDTMF(12,fast)", `extensions.conf:2: SendDTMF: gap "fast": want milliseconds 0-5000`},
		{"SendDTMF(12,100,5001)", `SendDTMF: duration "5001": want milliseconds 0-5000`},
		{"SendDTMF(12x)", `SendDTMF: 'x' in "12x" is not a DTMF digit (want 0-9, *, #, A-D or w)`},
		{"SendDTMF(1,2,3,4)", "SendDTMF: want 1 to 3 arguments, got 4"},

		{"VoiceMail(1001)", ""},
		{"VoiceMail(1001@default,bsU)", ""},
		{"VoiceMail({{ .Callee.MailboxID }},u)", ""},
		{"VoiceMail({{ .Callee.MailboxID }},x)", `VoiceMail: unknown option 'x' in "x" (want b, u, s or U)`},
		{"VoiceMail(1001,ub)", "VoiceMail: options b and u exclude each other"},
		{"VoiceMail()", "VoiceMail: want 1 to 2 arguments, got 0"},
		{"VoiceMail(,u)", "VoiceMail: empty mailbox"},
		{"VoiceMail(1001&1002)", `VoiceMail: "1001&1002": one mailbox only`},
		{"VoiceMail(../etc)", `VoiceMail: invalid mailbox name "../etc"`},
		{"VoiceMail(1001,u,x)", "VoiceMail: want 1 to 2 arguments, got 3"},
		{"VoiceMailMain()", ""},
		{"VoiceMailMain(1001)", ""},
		{"VoiceMailMain(,s)", ""},
		{"VoiceMailMain({{ .Caller.MailboxID }},s)", ""},
		{"VoiceMailMain(1001,p)", `VoiceMailMain: unknown option 'p' in "p" (want s)`},
		{"VoiceMailMain(a/b)", `VoiceMailMain: invalid mailbox name "a/b"`},
		{"VoiceMailMain(1,s,x)", "VoiceMailMain: want at most 2 arguments, got 3"},

		{"Anser()", `unknown app "Anser" (did you mean "Answer"?)`},
		{"playbak(hello)", `unknown app "playbak" (did you mean "Playback"?)`},
		{"Frobnicate()", `unknown app "Frobnicate"`},
	}
	for _, tt := range tests {
		t.Run(tt.call, func(t *testing.T) {
			got := compileLine(t, tt.call)
			switch {
			case tt.wantErr == "" && got != "":
				t.Errorf("error %q, want none", got)
			case tt.wantErr != "" && !strings.Contains(got, tt.wantErr):
				t.Errorf("error %q, want it to contain %q", got, tt.wantErr)
			}
		})
	}
}

// TestEveryMediaAppIsChecked fails when a media app that takes arguments has no Check.
func TestEveryMediaAppIsChecked(t *testing.T) {
	reg := dialplan.NewRegistry()
	if err := app.Register(reg, app.Deps{}); err != nil {
		t.Fatal(err)
	}
	for _, name := range reg.Names() {
		if a, _ := reg.Lookup(name); a.MaxArgs != 0 && a.Check == nil {
			t.Errorf("%s takes arguments but has no Check", name)
		}
	}
}
