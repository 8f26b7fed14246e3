package dialplan

import (
	"regexp"
	"strings"
	"testing"

	"github.com/sidecar-voip/sidecar/internal/safetmpl"
	"github.com/sidecar-voip/sidecar/profile"
	"github.com/sidecar-voip/sidecar/request"
	"github.com/sidecar-voip/sidecar/templates"
)

// TestCompiledArguments runs every argument of the shipped extensions.conf, each {{ }} action
// in it, and a table of arguments over the dialplan's data on both paths, the compiled
// closures (Execute) and text/template (Reference): the output and the error must be the same.
// The shipped arguments must all run compiled.
func TestCompiledArguments(t *testing.T) {
	conf, err := templates.FS.ReadFile("extensions.conf")
	if err != nil {
		t.Fatal(err)
	}
	shipped := regexp.MustCompile(`{{.*?}}`).FindAllString(string(conf), -1)
	if len(shipped) < 5 {
		t.Fatalf("only %d actions in extensions.conf", len(shipped))
	}
	table := []string{
		`sip:{{ trimPrefix "*302*" .Exten }}@{{ .From.Host }}`, `{{ .Context }},{{ .Exten }}`,
		`{{ .HasCaller }}{{ .HasCallee }}`, `{{ .Caller.User }}|{{ .Callee.Location }}|{{ .Callee.MWI }}`,
		`{{ .Var "DIGITS" }}`, `{{ .Var "NOSUCH" | default "none" }}`, `{{ .Caller.MailboxPIN }}`,
		`{{ printf "%s" .Callee.MailboxPIN }}`, `{{ .Caller }}`, `{{ .Request.To.User }}`,
		`{{ if eq .Request.To.User "100" }}a{{ end }}`, `{{ .Header "X-MailBoxId" | trim }}`,
		`{{ .HasHeader "Diversion" }}`, `{{ .Source.IP }}:{{ .Source.Port }}`, `{{ .RURI.User }}`,
		`{{ .Callee.CallerID.Name }}`, `{{ .Callee.DTMFMode }}`, `{{ .Callee.Nosuch }}`, `{{ .Nosuch }}`,
	}
	callee := &profile.Profile{User: "1002", Location: "sip:1002@192.0.2.20:5060", MailboxID: "1002",
		MailboxPIN: profile.NewSecret("4321"), MWI: true}
	req := request.New("INVITE", request.URI{Scheme: "sip", User: "*302*1003", Host: "h"},
		request.Address{User: "1001", Host: "example.com"}, request.Address{User: "100"}, "c@x",
		request.Endpoint{}, "udp", []request.Field{{Name: "Diversion", Value: "<sip:x@y>"}, {Name: "X-MailBoxId", Value: " 7 "}})
	datas := []*Data{
		{Request: req, Caller: &profile.Profile{}, Callee: callee, HasCallee: true, Context: "from-subscriber",
			Exten: "*302*1003", call: &Call{Vars: map[string]string{"DIGITS": "1234"}}},
		{Request: request.Sample(), Caller: &profile.Profile{}, Callee: &profile.Profile{}, call: &Call{}},
	}
	funcs := safetmpl.Funcs()
	for i, text := range append(shipped, table...) {
		v, err := safetmpl.CompileFor("extensions.conf:1", text, funcs, dataAccessors)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range datas {
			got, err := v.Execute(d, 0)
			want, errRef := v.Reference(d, 0)
			if got != want || (err == nil) != (errRef == nil) || err != nil && err.Error() != errRef.Error() {
				t.Fatalf("%q (compiled %v): got %q, %v; text/template %q, %v", text, v.Compiled(), got, err, want, errRef)
			}
			if i < len(shipped) && !v.Compiled() {
				t.Errorf("shipped %q does not compile", text)
			}
		}
		if strings.Contains(text, "MailboxPIN") && v.Compiled() {
			t.Errorf("%q compiled: the PIN must stay text/template's (it prints ****)", text)
		}
	}
}
