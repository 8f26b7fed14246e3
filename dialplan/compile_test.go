package dialplan

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
)

func TestCompileErrors(t *testing.T) {
	tests := []struct {
		name, conf string
		want       string
	}{
		{"unknown key", "[c]\nfoo => bar\n", `extensions.conf:2: unknown key "foo" (want exten, same or include)`},
		{"exten without priority", "[c]\nexten => 100\n", `extensions.conf:2: bad exten line: want "exten => PATTERN,PRIORITY,App(arguments)"`},
		{"exten without app", "[c]\nexten => 100,1\n", `extensions.conf:2: bad exten line: want "exten => PATTERN,PRIORITY,App(arguments)"`},
		{"same without app", "[c]\nexten => 100,1,NoOp()\nsame => n\n", `extensions.conf:3: bad same line: want "same => PRIORITY,App(arguments)"`},
		{"same first", "[c]\nsame => n,NoOp()\n", "extensions.conf:2: same without a preceding exten"},
		{"bad pattern", "[c]\nexten => _1[23,1,NoOp()\n", `extensions.conf:2: bad pattern "_1[23": unclosed [`},
		{"empty pattern", "[c]\nexten => _,1,NoOp()\n", `extensions.conf:2: bad pattern "_": empty pattern`},
		{"wildcard inside", "[c]\nexten => _X.1,1,NoOp()\n", `extensions.conf:2: bad pattern "_X.1": "." and "!" must end the pattern`},
		{"bad priority", "[c]\nexten => 100,x,NoOp()\n", `extensions.conf:2: bad priority "x": want a number from 1 to 99999 or n, optionally with (label)`},
		{"zero priority", "[c]\nexten => 100,0,NoOp()\n", `extensions.conf:2: bad priority "0": want a number from 1 to 99999 or n, optionally with (label)`},
		{"n first", "[c]\nexten => 100,n,NoOp()\n", `extensions.conf:2: priority n for extension "100" with no previous priority`},
		{"bad label", "[c]\nexten => 100,1(a b),NoOp()\n", `extensions.conf:2: bad label "a b" in priority "1(a b)"`},
		{"numeric label", "[c]\nexten => 100,1(2),NoOp()\n", `extensions.conf:2: bad label "2" in priority "1(2)": a label must not be a number`},
		{"duplicate priority", "[c]\nexten => 100,1,NoOp()\nexten => 100,1,NoOp()\n", `extensions.conf:3: duplicate priority 1 for extension "100" (first at extensions.conf:2)`},
		{"duplicate label", "[c]\nexten => 100,1(x),NoOp()\n same => n(x),NoOp()\n", `extensions.conf:3: duplicate label "x" for extension "100" (first at extensions.conf:2)`},
		{"unknown app", "[c]\nexten => 100,1,Dial(PJSIP/100)\n", `extensions.conf:2: unknown app "Dial"`},
		{"bad app call", "[c]\nexten => 100,1,NoOp(x\n", `extensions.conf:2: bad application call "NoOp(x": want App(arguments)`},
		{"bad app name", "[c]\nexten => 100,1,No Op()\n", `extensions.conf:2: bad application name "No Op"`},
		{"too many args", "[c]\nexten => 100,1,Hangup(16,17)\n", "extensions.conf:2: Hangup: want at most 1 argument, got 2"},
		{"too few args", "[c]\nexten => 100,1,Wait()\n", "extensions.conf:2: Wait: want 1 argument, got 0"},
		{"goto args", "[c]\nexten => 100,1,Goto(a,b,c,d)\n", "extensions.conf:2: Goto: want 1 to 3 arguments, got 4"},
		{"unclosed quote", "[c]\nexten => 100,1,NoOp(\"a)\n", `extensions.conf:2: unclosed " in arguments`},
		{"unclosed action", "[c]\nexten => 100,1,NoOp({{ .From.User )\n", "extensions.conf:2: unclosed {{ in arguments"},
		{"unbalanced", "[c]\nexten => 100,1,NoOp(a(b)\n", "extensions.conf:2: unbalanced parentheses in arguments"},
		{"template parse", "[c]\nexten => 100,1,NoOp({{ .From.User }, x)\n", "extensions.conf:2: unclosed {{ in arguments"},
		{"template func", "[c]\nexten => 100,1,NoOp({{ nosuch .From.User }})\n", `extensions.conf:2: argument 1 of NoOp: parse template: 1: function "nosuch" not defined`},
		{"template field", "[c]\nexten => 100,1,NoOp(a,{{ .Form.User }})\n", `extensions.conf:2: argument 2 of NoOp: execute template: 1:8: executing "extensions.conf:2" at <.Form.User>: can't evaluate field Form in type *dialplan.Data`},
		{"pseudo syntax", "[c]\nexten => 100,1,NoOp(${Source-IP})\n", "extensions.conf:2: argument 1 of NoOp: ${...} is not template syntax: write {{ .Source.IP }} instead of ${Source-IP}"},
		{"set without =", "[c]\nexten => 100,1,Set(X)\n", "extensions.conf:2: Set: want NAME=value"},
		{"set bad name", "[c]\nexten => 100,1,Set(1X=2)\n", `extensions.conf:2: Set: invalid variable name "1X" (want letters, digits and _, not starting with a digit)`},
		{"gotoif without ?", "[c]\nexten => 100,1,GotoIf(1)\n", "extensions.conf:2: GotoIf: want condition?[labeliftrue][:labeliffalse]"},
		{"gotoif long label", "[c]\nexten => 100,1,GotoIf(1?a,b,c,d)\n", `extensions.conf:2: GotoIf: label "a,b,c,d": want [[context,]exten,]priority`},
		{"goto unknown label", "[c]\nexten => 100,1,Goto(nowhere)\n", `extensions.conf:2: Goto: no priority or label "nowhere" in extension "100"`},
		{"goto unknown context", "[c]\nexten => 100,1,Goto(d,100,1)\n", `extensions.conf:2: Goto: unknown context "d"`},
		{"goto unknown exten", "[c]\nexten => 100,1,Goto(c,200,1)\n", "extensions.conf:2: Goto: no such dialplan target c,200,1"},
		{"goto empty", "[c]\nexten => 100,1,Goto(\"\")\n", "extensions.conf:2: Goto: empty priority"},
		{"gotoif unknown label", "[c]\nexten => 100,1(a),GotoIf(1?a:b)\n", `extensions.conf:2: GotoIf: no priority or label "b" in extension "100"`},
		{"hangup cause", "[c]\nexten => 100,1,Hangup(200)\n", `extensions.conf:2: Hangup: bad hangup cause "200": want a number from 1 to 127`},
		{"wait range", "[c]\nexten => 100,1,Wait(3601)\n", `extensions.conf:2: Wait: bad seconds "3601": want a number from 0 to 3600`},
		{"wait nan", "[c]\nexten => 100,1,Wait(NaN)\n", `extensions.conf:2: Wait: bad seconds "NaN": want a number from 0 to 3600`},
		{"busy timeout", "[c]\nexten => 100,1,Busy(-1)\n", `extensions.conf:2: Busy: bad seconds "-1": want a number from 0 to 3600`},
		{"log level", "[c]\nexten => 100,1,Log(LOUD,x)\n", `extensions.conf:2: Log: unknown level "LOUD" (want ERROR, WARNING, NOTICE, VERBOSE, DEBUG or DTMF)`},
		{"include unknown", "[c]\ninclude => d\n", `extensions.conf:2: include of unknown context "d"`},
		{"include empty", "[c]\ninclude =>\n", "extensions.conf:2: include without a context name"},
		{"same after bad exten", "[c]\nexten => _[,1,NoOp()\n same => n,Nope()\n",
			"extensions.conf:2: bad pattern \"_[\": unclosed [\nextensions.conf:3: unknown app \"Nope\" (did you mean \"NoOp\"?)"},
		{"several, in file order", "[c]\nexten => 1,1,A()\n[d]\nexten => 2,1,B()\ninclude => e\n",
			"extensions.conf:2: unknown app \"A\"\nextensions.conf:4: unknown app \"B\"\nextensions.conf:5: include of unknown context \"e\""},
		{"inherited once", "[t](!)\nexten => 1,1,A()\n[c](t)\n[d](t)\n", `extensions.conf:2: unknown app "A"`},
	}
	reg := testRegistry(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadFS(fstest.MapFS{"extensions.conf": {Data: []byte(tc.conf)}}, ".", reg)
			if err == nil {
				t.Fatalf("no error, want %q", tc.want)
			}
			if diff := cmp.Diff(tc.want, err.Error()); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCompileErrorsAcrossFiles(t *testing.T) {
	fsys := fstest.MapFS{
		"tpl/extensions.conf":   {Data: []byte("[c]\n#include more.conf\nexten => 1,1,NoOp()\n")},
		"tpl/more.conf":         {Data: []byte("exten => 2,1,Nope()\n")},
		"tpl/unrelated.conf":    {Data: []byte("[not-a-context]\nfoo = bar\n")},
		"other/extensions.conf": {Data: []byte("[x]\n")},
	}
	_, err := LoadFS(fsys, "tpl", testRegistry(t))
	if err == nil || err.Error() != `tpl/more.conf:1: unknown app "Nope" (did you mean "NoOp"?)` {
		t.Fatalf("err = %v", err)
	}
	if !errors.Is(err, ErrUnknownApp) {
		t.Errorf("errors.Is(err, ErrUnknownApp) = false")
	}
	var es Errors
	if !errors.As(err, &es) || len(es) != 1 || es[0].Pos.Line != 1 {
		t.Errorf("errors.As Errors = %v", es)
	}
}

func TestLoadFSMissingFile(t *testing.T) {
	p, err := LoadFS(fstest.MapFS{"tpl/templates.conf": {Data: []byte("[a]\n")}}, "tpl", testRegistry(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Contexts()) != 0 {
		t.Errorf("contexts = %v, want none", p.Contexts())
	}
	ch := newRecorder(nil)
	if _, err := ch.run(t.Context(), p, "default", "1", nil); !errors.Is(err, ErrNoContext) {
		t.Errorf("Run on empty plan: %v", err)
	}
}

func TestLoadFSDialectError(t *testing.T) {
	_, err := LoadFS(fstest.MapFS{"extensions.conf": {Data: []byte("[c]\n[c]\n")}}, ".", testRegistry(t))
	if err == nil || !strings.HasPrefix(err.Error(), "extensions.conf:2: ") {
		t.Errorf("err = %v, want a file:line error from the dialect", err)
	}
}

func TestSplitArgs(t *testing.T) {
	tests := []struct {
		raw  string
		want []string
	}{
		{"", nil},
		{"  ", nil},
		{"a", []string{"a"}},
		{"a,b,,c", []string{"a", "b", "", "c"}},
		{" a , b ", []string{"a", "b"}},
		{`"a,b",c`, []string{"a,b", "c"}},
		{`a\,b,c`, []string{"a,b", "c"}},
		{`say "hi"`, []string{"say hi"}},
		{`f(a,b),c`, []string{"f(a,b)", "c"}},
		{`{{ printf "%s,%s" .A .B }},x`, []string{`{{ printf "%s,%s" .A .B }}`, "x"}},
		{`{{ "a\"b" }}`, []string{`{{ "a\"b" }}`}},
		{`{{ if .X }}a,b{{ end }}`, []string{`{{ if .X }}a`, `b{{ end }}`}},
		{`x{{ .A }}"y,z"`, []string{`x{{ .A }}y,z`}},
	}
	for _, tc := range tests {
		got, err := splitArgs(tc.raw)
		if err != nil {
			t.Errorf("splitArgs(%q): %v", tc.raw, err)
			continue
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("splitArgs(%q) (-want +got):\n%s", tc.raw, diff)
		}
	}
}

func TestSplitSpecial(t *testing.T) {
	tests := []struct {
		split func(string) ([]string, error)
		raw   string
		want  []string
	}{
		{splitAssign, "X=a=b,c", []string{"X", "a=b,c"}},
		{splitAssign, `{{ "N=1" }}=v`, []string{`{{ "N=1" }}`, "v"}},
		{splitFirstComma, "NOTICE,a,b", []string{"NOTICE", "a,b"}},
		{splitGotoIf, "{{ .X }}?yes", []string{"{{ .X }}", "", "", "yes", "", "", ""}},
		{splitGotoIf, "1?:no", []string{"1", "", "", "", "", "", "no"}},
		{splitGotoIf, "c?ctx,ext,1:ext2,lbl", []string{"c", "ctx", "ext", "1", "", "ext2", "lbl"}},
		{splitGotoIf, `{{ eq .A "?" }}?a:{{ if .B }}x{{ else }}y{{ end }}`,
			[]string{`{{ eq .A "?" }}`, "", "", "a", "", "", `{{ if .B }}x{{ else }}y{{ end }}`}},
	}
	for _, tc := range tests {
		got, err := tc.split(tc.raw)
		if err != nil {
			t.Errorf("split(%q): %v", tc.raw, err)
			continue
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("split(%q) (-want +got):\n%s", tc.raw, diff)
		}
	}
}

func TestRegistry(t *testing.T) {
	reg := NewRegistry()
	run := func(_ context.Context, _ *Call, _ []string) (Result, error) { return Next(), nil }
	if err := reg.Register(App{Name: "Echo", Run: run}); err != nil {
		t.Fatal(err)
	}
	if err := reg.Register(App{Name: "ECHO", Run: run}); !errors.Is(err, ErrDuplicateApp) {
		t.Errorf("duplicate: %v, want ErrDuplicateApp", err)
	}
	for _, bad := range []App{{Name: "", Run: run}, {Name: "a b", Run: run}, {Name: "X"}, {Name: "Y", Run: run, MinArgs: 2, MaxArgs: 1}} {
		if err := reg.Register(bad); err == nil {
			t.Errorf("Register(%+v) succeeded", bad)
		}
	}
	if a, ok := reg.Lookup("echo"); !ok || a.Name != "Echo" {
		t.Errorf("Lookup(echo) = %v, %v", a, ok)
	}
	if err := RegisterSignalling(reg); err != nil {
		t.Fatal(err)
	}
	if err := RegisterSignalling(reg); !errors.Is(err, ErrDuplicateApp) {
		t.Errorf("second RegisterSignalling: %v", err)
	}
}
