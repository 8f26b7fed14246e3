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
		"a.conf":          "[t]\ncontext = x\n",
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
		"a.conf":      "[t]\ncontext = x\n",
		"sidecar.ini": "[sip]\nidentify = header, username\n",
	})
	warn := writeFiles(t, map[string]string{"a.conf": "[t]\nlocation = {{ .Header \"X-Loc\" }}x\n"})
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  []string // lines, in order
		wantErr  string
	}{
		{name: "clean", args: []string{"check", "-templates", clean}, wantCode: 0},
		{name: "errors", args: []string{"check", "-templates", bad}, wantCode: 1, wantOut: []string{
			filepath.Join(bad, "a.conf") + `:2: unknown key "codec" (did you mean "codecs"?); free-form keys start with "x-"`,
			filepath.Join(bad, "inc/b.conf") + `:2: mwi: "perhaps" is not a boolean (yes/no, true/false, on/off, 1/0)`,
			filepath.Join(bad, "inc/b.conf") + `:3: warning: with the sample request: template "u", location: "sip:" has no host`,
			filepath.Join(bad, "z.conf") + `:1: unknown parent template "nosuch" of [v]`,
		}, wantErr: "3 errors, 1 warning"},
		{name: "warnings only", args: []string{"check", "-templates", warn}, wantCode: 0, wantOut: []string{
			filepath.Join(warn, "a.conf") + `:2: warning: with the sample request: template "t", location: "x" is not a sip: or sips: URI`,
		}},
		{name: "dialplan and identifiers", args: []string{"check", "-config", filepath.Join(badPlan, "sidecar.ini"), "-templates", badPlan}, wantCode: 1, wantOut: []string{
			filepath.Join(badPlan, "extensions.conf") + `:2: unknown app "Bogus"`,
			filepath.Join(badPlan, "sidecar.ini") + `: build identifier anonymous: [identify] anonymous: unknown template "nobody"`,
		}, wantErr: "2 errors"},
		{name: "username without prefix", args: []string{"check", "-config", filepath.Join(userID, "sidecar.ini"), "-templates", userID}, wantCode: 0, wantOut: []string{
			filepath.Join(userID, "sidecar.ini") + `: warning: [sip] identify has username without [identify] username-prefix: any caller can pick any template by its From user; set a prefix such as "user-"`,
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
			if tt.wantOut == nil && tt.wantCode == 0 && out != "" {
				t.Errorf("unexpected output: %q", out)
			}
			if !strings.Contains(errOut, tt.wantErr) {
				t.Errorf("stderr %q, want it to contain %q", errOut, tt.wantErr)
			}
		})
	}
}
