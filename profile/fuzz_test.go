package profile

import (
	"net/netip"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/sidecar-voip/sidecar/request"
	"github.com/sidecar-voip/sidecar/templates"
)

// fuzzEcho adds to the shipped templates one that copies header values into free-form fields,
// to check that header values come out exactly as they went in (data, never executed).
const fuzzEcho = `
[echo](endpoint-template)
x-echo = {{ .Header "X-Echo" }}
user = {{ .Param "user" }}
callerid = {{ .Header "X-Name" }} <{{ .From.User }}>
`

// FuzzBuild selects and builds profiles from arbitrary header values and From user over the
// shipped templates. It must never panic, and a profile it returns must be valid: its values
// pass the same checks as at load, and a header echoed into a field is the header's value
// byte for byte.
func FuzzBuild(f *testing.F) {
	fsys := fstest.MapFS{"echo.conf": {Data: []byte(fuzzEcho)}}
	for _, name := range []string{"templates.conf", "endpoints.conf"} {
		data, err := templates.FS.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		fsys[name] = &fstest.MapFile{Data: data}
	}
	s, err := LoadFS(fsys, ".")
	if err != nil {
		f.Fatal(err)
	}
	f.Add("subscriber;user=alice", "callee-endpoint", "1002", "4321", "1001", "{{ .CallID }}", "Alice")
	f.Add("echo;user=bob", "echo", "", "", "", "{{ env \"HOME\" }}", "{{ .Method }}")
	f.Add("template-user-x", "", "a@b", "12a", "al ice", "\x00\r\n", "\"quoted\"")
	f.Add(" anonymous ; x=1;x=2", "caller-endpoint;;", "${header(X)}", "0000", "%40", strings.Repeat("{{", 100), "<>")
	f.Add("endpoint-template", "../x", "1", "1", "1", "1", "1")
	f.Fuzz(func(t *testing.T, callerTpl, calleeTpl, mailbox, pin, fromUser, echo, name string) {
		req := request.New("INVITE",
			request.URI{Scheme: "sip", User: "1002", Host: "sidecar.invalid"},
			request.Address{Display: name, URI: request.URI{Scheme: "sip", User: fromUser, Host: "example.invalid"}},
			request.Address{URI: request.URI{Scheme: "sip", User: "1002", Host: "example.invalid"}},
			"fuzz@x", request.Endpoint{IP: netip.MustParseAddr("192.0.2.1"), Port: 5060}, "udp",
			[]request.Field{
				{Name: "X-Caller-Template", Value: callerTpl},
				{Name: "X-Callee-Template", Value: calleeTpl},
				{Name: "X-MailBoxId", Value: mailbox},
				{Name: "X-MailBoxPin", Value: pin},
				{Name: "X-Echo", Value: echo},
				{Name: "X-Name", Value: name},
			})
		caller, callee, err := s.Select(req)
		if err != nil {
			return
		}
		for _, side := range []struct {
			m    Match
			role Role
		}{{caller, RoleCaller}, {callee, RoleCallee}} {
			if side.m.Name == "" {
				continue
			}
			p, err := s.Build(side.m, side.role, req)
			// Every compiled value must agree with text/template.
			data := NewData(req, side.m.Name, side.m.Params, side.role)
			for _, o := range s.byName[side.m.Name].ops {
				sameAsReference(t, o.val, data, o.kind.maxLen())
			}
			if err != nil {
				if err.Error() == "" {
					t.Fatal("empty error")
				}
				continue
			}
			checkProfile(t, p)
			if side.m.Name == "echo" {
				if got := p.Custom["x-echo"]; got != echo {
					t.Fatalf("x-echo = %q, want the header value %q", got, echo)
				}
			}
		}
	})
}

// checkProfile checks a built profile with the load-time validators.
func checkProfile(t *testing.T, p *Profile) {
	t.Helper()
	if len(p.Codecs) == 0 {
		t.Fatal("no codecs")
	}
	if err := checkUser(p.User); err != nil {
		t.Fatalf("user: %v", err)
	}
	if p.Location != "" {
		if err := checkSIPURI(p.Location); err != nil {
			t.Fatalf("location: %v", err)
		}
	}
	if err := checkPIN(RevealSecret(p.MailboxPIN)); err != nil {
		t.Fatalf("pin: %v", err)
	}
	if err := checkToken(p.MailboxID, 80, "-_.@+", "mailbox"); err != nil {
		t.Fatalf("mailbox: %v", err)
	}
	if p.CallerID.Number != "" {
		if err := checkToken(p.CallerID.Number, 64, "+*#._-", "number"); err != nil {
			t.Fatalf("callerid: %v", err)
		}
	}
	if strings.ContainsAny(p.CallerID.Name, "\"\r\n\x00") {
		t.Fatalf("callerid name %q", p.CallerID.Name)
	}
}
