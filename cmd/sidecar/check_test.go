package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeFiles writes name -> content under a new temporary directory and returns it.
func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, data := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func runCmd(args []string, stdin string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = run(args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func TestCheckShipped(t *testing.T) {
	code, out, errOut := runCmd([]string{"check", "-v"}, "")
	if code != 0 {
		t.Fatalf("check of the shipped templates: exit %d\n%s%s", code, out, errOut)
	}
	if !strings.Contains(out, "subscriber") || !strings.Contains(out, "template-user-x") {
		t.Errorf("check -v output lacks the shipped templates: %q", out)
	}
}

func TestCheckDir(t *testing.T) {
	clean := writeFiles(t, map[string]string{
		"a.conf":          "[t]\ncontext = default\n",
		"extensions.conf": "[default]\nexten => _X.,1,Busy()\n",
	})
	badPlan := writeFiles(t, map[string]string{
		"a.conf":          "[t]\ncontext = x\n",
		"extensions.conf": "[x]\nexten => _X.,1,Bogus()\n",
		"sidecar.ini":     "[sip]\nidentify = header, anonymous\n[identify]\nanonymous = nobody\n",
	})
	bad := writeFiles(t, map[string]string{
		"a.conf":      "[t]\ncodec = pcmu\n#include \"inc/b.conf\"\n",
		"inc/b.conf":  "[u]\nmwi = perhaps\nlocation = {{ .Header \"X-Loc\" | default \"sip:\" }}\n",
		"notconf.txt": "[ignored]\nfoo = bar\n",
		"z.conf":      "[v](nosuch)\n",
	})
	userID := writeFiles(t, map[string]string{
		"a.conf":          "[t]\ncontext = default\n",
		"sidecar.ini":     "[sip]\nidentify = header, username\n",
		"extensions.conf": "[default]\nexten => _X.,1,Busy()\n",
	})
	warn := writeFiles(t, map[string]string{
		"a.conf":          "[t]\nlocation = {{ .Header \"X-Loc\" }}x\n",
		"extensions.conf": "[default]\nexten => _X.,1,Busy()\n",
	})
	noPlan := writeFiles(t, map[string]string{"a.conf": "[t]\ncontext = x\n"})
	badContext := writeFiles(t, map[string]string{
		"a.conf":          "[base](!)\ncontext = from-subscribers\n[alice](base)\n[bob](base)\n[carol]\ncontext = {{ .Header \"X-Ctx\" }}\n[dave]\ncontext = x\n",
		"extensions.conf": "[from-subscriber]\nexten => _X.,1,Busy()\n[x]\nexten => _X.,1,Busy()\n[default]\nexten => _X.,1,Busy()\n",
	})
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  []string // lines, in order
		wantErr  string
	}{
		{name: "clean", args: []string{"check", "-templates", clean}, wantCode: 0, wantOut: []string{
			"ok: 1 template, 1 context, 0 warnings",
		}},
		{name: "missing extensions.conf", args: []string{"check", "-templates", noPlan}, wantCode: 1, wantOut: []string{
			filepath.Join(noPlan, "extensions.conf") + ": no dialplan: the file does not exist, so every call would be answered 404 Not Found; write it with at least one [context] (see docs/dialplan.md)",
		}, wantErr: "1 error"},
		{name: "template context not in the dialplan", args: []string{"check", "-templates", badContext}, wantCode: 1, wantOut: []string{
			filepath.Join(badContext, "a.conf") + `:2: context "from-subscribers" is not a context of extensions.conf (did you mean "from-subscriber"?): calls routed by templates "alice", "bob" would get 404`,
		}, wantErr: "1 error"},
		{name: "help", args: []string{"check", "-h"}, wantCode: 0, wantErr: "usage: sidecar check"},
		{name: "errors", args: []string{"check", "-templates", bad}, wantCode: 1, wantOut: []string{
			filepath.Join(bad, "a.conf") + `:2: unknown key "codec" (did you mean "codecs"?); free-form keys start with "x-"`,
			filepath.Join(bad, "inc/b.conf") + `:2: mwi: "perhaps" is not a boolean (yes/no, true/false, on/off, 1/0)`,
			filepath.Join(bad, "inc/b.conf") + `:3: warning: with the sample request: template "u", location: "sip:" has no host`,
			filepath.Join(bad, "z.conf") + `:1: unknown parent template "nosuch" of [v]`,
		}, wantErr: "3 errors, 1 warning"},
		{name: "warnings only", args: []string{"check", "-templates", warn}, wantCode: 0, wantOut: []string{
			filepath.Join(warn, "a.conf") + `:2: warning: with the sample request: template "t", location: "x" is not a sip: or sips: URI`,
			"ok: 1 template, 1 context, 1 warning",
		}},
		{name: "dialplan and identifiers", args: []string{"check", "-config", filepath.Join(badPlan, "sidecar.ini"), "-templates", badPlan}, wantCode: 1, wantOut: []string{
			filepath.Join(badPlan, "extensions.conf") + `:2: unknown app "Bogus"`,
			filepath.Join(badPlan, "sidecar.ini") + `: build identifier anonymous: [identify] anonymous: unknown template "nobody"`,
		}, wantErr: "2 errors"},
		{name: "username without prefix", args: []string{"check", "-config", filepath.Join(userID, "sidecar.ini"), "-templates", userID}, wantCode: 0, wantOut: []string{
			filepath.Join(userID, "sidecar.ini") + `: warning: [sip] identify has username without [identify] username-prefix: any caller can pick any template by its From user; set a prefix such as "user-"`,
			"ok: 1 template, 1 context, 1 warning",
		}},
		{name: "missing dir", args: []string{"check", "-templates", filepath.Join(clean, "nope")}, wantCode: 1, wantErr: "1 error"},
		{name: "empty dir", args: []string{"check", "-templates", t.TempDir()}, wantCode: 1, wantErr: "1 error"},
		{name: "extra argument", args: []string{"check", "x"}, wantCode: 2, wantErr: "usage: sidecar check"},
		{name: "bad flag", args: []string{"check", "-nope"}, wantCode: 2, wantErr: "flag provided but not defined"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCmd(tt.args, "")
			if code != tt.wantCode {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.wantCode, out, errOut)
			}
			var got []string
			if out != "" {
				got = strings.Split(strings.TrimSuffix(out, "\n"), "\n")
			}
			if tt.wantOut != nil && strings.Join(got, "\n") != strings.Join(tt.wantOut, "\n") {
				t.Errorf("stdout:\n%s\nwant:\n%s", out, strings.Join(tt.wantOut, "\n"))
			}
			if tt.wantOut == nil && tt.wantCode == 0 && out != "" && !strings.HasPrefix(out, "ok: ") {
				t.Errorf("unexpected output: %q", out)
			}
			if !strings.Contains(errOut, tt.wantErr) {
				t.Errorf("stderr %q, want it to contain %q", errOut, tt.wantErr)
			}
		})
	}
}

// TestCheckAppArguments runs "sidecar check" on a template directory whose dialplan has each
// argument the issue found passing at load and failing during a call: every one is reported at
// its extensions.conf line, with "did you mean" for a misspelt app and parent template.
func TestCheckAppArguments(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"a.conf": "[subscriber](!)\ncontext = x\n[alice](subscrbier)\n[bob](subscriber)\n",
		"extensions.conf": "[default]\nexten => 1,1,NoOp()\n[x]\n" +
			"exten => 1,1,Answer(soon)\n" +
			" same => n,Read(x,beep,lots)\n" +
			" same => n,SendDTMF(12,fast)\n" +
			" same => n,Playbak(hello)\n" +
			" same => n,Hangup(abc)\n" +
			" same => n,SendDTMF({{ .To.User }},{{ .To.User }})\n", // templated: checked per call
	})
	code, out, _ := runCmd([]string{"check", "-templates", dir}, "")
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	// The parent template error stops the templates from loading; fix it to see the dialplan.
	want := filepath.Join(dir, "a.conf") + `:3: unknown parent template "subscrbier" of [alice] (did you mean "subscriber"?)`
	if strings.TrimSpace(out) != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", out, want)
	}
	if err := os.WriteFile(filepath.Join(dir, "a.conf"), []byte("[subscriber](!)\ncontext = x\n[alice](subscriber)\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCmd([]string{"check", "-templates", dir}, "")
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	ext := filepath.Join(dir, "extensions.conf")
	wantLines := []string{
		ext + `:4: Answer: delay "soon": want milliseconds 0-10000`,
		ext + `:5: Read: maxdigits "lots": want 0-255`,
		ext + `:6: SendDTMF: gap "fast": want milliseconds 0-5000`,
		ext + `:7: unknown app "Playbak" (did you mean "Playback"?)`,
		ext + `:8: Hangup: bad hangup cause "abc": want a number from 1 to 127`,
	}
	if got := strings.TrimSuffix(out, "\n"); got != strings.Join(wantLines, "\n") {
		t.Errorf("stdout:\n%s\nwant:\n%s", got, strings.Join(wantLines, "\n"))
	}
	if !strings.Contains(errOut, "5 errors") {
		t.Errorf("stderr %q, want 5 errors", errOut)
	}
}

// TestHelpExitsZero: -h prints the usage and exits 0 for every subcommand with flags.
func TestHelpExitsZero(t *testing.T) {
	for _, cmd := range []string{"serve", "check", "render"} {
		code, _, errOut := runCmd([]string{cmd, "-h"}, "")
		if code != 0 || !strings.Contains(errOut, "usage: sidecar "+cmd) {
			t.Errorf("%s -h: exit %d, stderr %q", cmd, code, errOut)
		}
	}
}
