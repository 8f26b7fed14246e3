package dialplan

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/sidecar-voip/sidecar/profile"
	"github.com/sidecar-voip/sidecar/request"

	"golang.org/x/tools/txtar"
)

var errLine = regexp.MustCompile(`^extensions\.conf:\d+: \S`)

// FuzzCompile feeds arbitrary extensions.conf text to LoadFS: it must not panic, every error
// line must carry file:line, and a compiled plan must list and run calls without panicking.
func FuzzCompile(f *testing.F) {
	if b, err := os.ReadFile("../templates/extensions.conf"); err == nil {
		f.Add(string(b))
	}
	golden, _ := filepath.Glob("testdata/golden/*.txtar")
	for _, g := range golden {
		if ar, err := txtar.ParseFile(g); err == nil {
			for _, file := range ar.Files {
				if file.Name == "extensions.conf" {
					f.Add(string(file.Data))
				}
			}
		}
	}
	for _, s := range []string{
		"[c]\nexten => _X.,1,NoOp({{ .From.User }},\"a,b\")\n same => n(l),GotoIf(1?l:c,1,1)\n",
		"[c]\nexten => _[1-5!,1,Set(X={{ .Var \"Y\" }})\ninclude => c\n",
		"[c]\nexten => 1,n,Hangup(\nsame => 2(x),Goto(c,1,x)\n",
		"[a](!)\nexten => 1,1,Wait(0)\n[b](a)\ninclude => a\n",
	} {
		f.Add(s)
	}
	reg := testRegistry(f)
	f.Fuzz(func(t *testing.T, text string) {
		p, err := LoadFS(fstest.MapFS{"extensions.conf": {Data: []byte(text)}}, ".", reg)
		if err != nil {
			for _, line := range strings.Split(err.Error(), "\n") {
				if !errLine.MatchString(line) {
					t.Fatalf("error line without file:line: %q", line)
				}
			}
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
		defer cancel()
		for _, c := range p.Contexts() {
			for _, exten := range []string{"1", "100", "*97", "s", ""} {
				p.Steps(c, exten)
				_, _ = p.Run(ctx, newRecorder(nil), c, exten, nil)
			}
		}
	})
}

func BenchmarkRun(b *testing.B) {
	p := compileText(b, `[from-subscriber]
exten => *486,1,Busy()
exten => _*302*.,1,Transfer(sip:{{ trimPrefix "*302*" .Exten }}@{{ .From.Host }})
include => to-subscriber
[to-subscriber]
exten => _!,1,Set(WHO={{ .Callee.User }})
 same => n,GotoIf({{ .HasCallee }}?known)
 same => n,Hangup(1)
 same => n(known),GotoIf({{ .Callee.Location }}?redirect)
 same => n,Hangup(20)
 same => n(redirect),Transfer({{ .Callee.Location }})
`)
	ctx := context.Background()
	req := request.Sample()
	callee := &profile.Profile{User: "1002", Location: "sip:1002@192.0.2.20:5060"}
	b.ReportAllocs()
	for b.Loop() {
		ch := newRecorder(req)
		ch.callee = callee
		if _, err := p.Run(ctx, ch, "from-subscriber", "1002", nil); !errors.Is(err, ErrEnded) {
			b.Fatal(err)
		}
	}
}
