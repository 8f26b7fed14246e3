package profile_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"

	"github.com/sidecar-voip/sidecar/internal/dialect"
	"github.com/sidecar-voip/sidecar/internal/safetmpl"
	"github.com/sidecar-voip/sidecar/profile"
	"github.com/sidecar-voip/sidecar/request"
	"github.com/sidecar-voip/sidecar/templates"
)

// loadSet compiles the given files (name -> content) and fails the test on errors.
func loadSet(t testing.TB, files map[string]string) *profile.Set {
	t.Helper()
	fsys := fstest.MapFS{}
	for name, data := range files {
		fsys[name] = &fstest.MapFile{Data: []byte(data)}
	}
	s, err := profile.LoadFS(fsys, ".")
	if err != nil {
		t.Fatalf("LoadFS: %v", err)
	}
	return s
}

func TestLoadFSSkipsDialplan(t *testing.T) {
	s := loadSet(t, map[string]string{
		"a.conf":           "[a]\ncontext = x\n",
		"b.conf":           "[b](!)\ncontext = y\n[c](b)\n",
		"extensions.conf":  "[default]\nexten => _X.,1,Answer()\n",
		"sub/ignored.conf": "[ignored]\nnot-a-key = 1\n",
	})
	if diff := cmp.Diff([]string{"a", "c"}, s.Templates()); diff != "" {
		t.Errorf("Templates (-want +got):\n%s", diff)
	}
	for name, want := range map[string]bool{"a": true, "b": false, "c": true, "default": false, "ignored": false} {
		if got := s.Has(name); got != want {
			t.Errorf("Has(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestLoadFSErrors(t *testing.T) {
	_, err := profile.LoadFS(fstest.MapFS{"x.txt": {Data: []byte("hi")}}, ".")
	if err == nil || !strings.Contains(err.Error(), "no *.conf template file") {
		t.Errorf("empty dir: err = %v", err)
	}
	fsys := fstest.MapFS{
		"a.conf": {Data: []byte("[a]\ncodec = pcmu\nmwi = maybe\n")},
		"b.conf": {Data: []byte("[b](nosuch)\n")},
	}
	_, err = profile.LoadFS(fsys, ".")
	var es dialect.Errors
	if !errors.As(err, &es) {
		t.Fatalf("err = %T %v, want dialect.Errors", err, err)
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "a.conf:2: ") || !strings.HasPrefix(lines[1], "a.conf:3: ") || !strings.HasPrefix(lines[2], "b.conf:1: ") {
		t.Errorf("errors not one per line in file order:\n%s", err)
	}
}

func TestBuildErrors(t *testing.T) {
	s := loadSet(t, map[string]string{"t.conf": `
[abs](!)
user = x
[t](abs)
location = {{ .Header "X-Loc" }}
`})
	req := request.Sample()
	tests := []struct {
		name string
		m    profile.Match
		role profile.Role
		is   error
	}{
		{"empty name", profile.Match{}, profile.RoleCaller, profile.ErrUnknownTemplate},
		{"unknown", profile.Match{Name: "nosuch"}, profile.RoleCaller, profile.ErrUnknownTemplate},
		{"abstract", profile.Match{Name: "abs"}, profile.RoleCallee, profile.ErrAbstractTemplate},
	}
	for _, tt := range tests {
		if _, err := s.Build(tt.m, tt.role, req); !errors.Is(err, tt.is) {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.is)
		}
	}
	if _, err := s.Build(profile.Match{Name: "t"}, "both", req); err == nil {
		t.Error("bad role accepted")
	}

	bad := request.New("INVITE", request.URI{Scheme: "sip", Host: "h"}, request.Address{}, request.Address{}, "c", request.Endpoint{}, "udp",
		[]request.Field{{Name: "X-Loc", Value: "mailto:alice@example.com"}})
	_, err := s.Build(profile.Match{Name: "t"}, profile.RoleCaller, bad)
	var fe *profile.FieldError
	if !errors.As(err, &fe) || !errors.Is(err, profile.ErrInvalidValue) {
		t.Fatalf("err = %v, want a FieldError matching ErrInvalidValue", err)
	}
	if fe.Template != "t" || fe.Key != "location" || fe.Pos.String() != "t.conf:5" {
		t.Errorf("FieldError = %+v, want template t, key location at t.conf:5", fe)
	}

	long := request.New("INVITE", request.URI{Scheme: "sip", Host: "h"}, request.Address{}, request.Address{}, "c", request.Endpoint{}, "udp",
		[]request.Field{{Name: "X-Loc", Value: "sip:a@" + strings.Repeat("a", 2000)}})
	if _, err := s.Build(profile.Match{Name: "t"}, profile.RoleCaller, long); !errors.Is(err, safetmpl.ErrTooLong) || !errors.Is(err, profile.ErrInvalidValue) {
		t.Errorf("oversized header: err = %v, want ErrTooLong and ErrInvalidValue", err)
	}
}

func TestSecretNeverPrinted(t *testing.T) {
	s := loadSet(t, map[string]string{"t.conf": "[t]\nmailbox-pin = {{ .Header \"X-MailBoxPin\" }}\nuser = alice\n"})
	req := request.New("INVITE", request.URI{Scheme: "sip", User: "1", Host: "h"}, request.Address{}, request.Address{}, "c", request.Endpoint{}, "udp",
		[]request.Field{{Name: "X-MailBoxPin", Value: "987654"}})
	p, err := s.Build(profile.Match{Name: "t"}, profile.RoleCaller, req)
	if err != nil {
		t.Fatal(err)
	}
	if profile.RevealSecret(p.MailboxPIN) != "987654" {
		t.Fatalf("Reveal = %q", profile.RevealSecret(p.MailboxPIN))
	}
	js, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("built", "profile", p)
	slog.New(slog.NewTextHandler(&logged, nil)).Info("built", "pin", p.MailboxPIN, "profile", p)
	for what, out := range map[string]string{
		"json": string(js), "slog": logged.String(),
		"%v": fmt.Sprintf("%v", *p), "%+v": fmt.Sprintf("%+v", p), "%#v": fmt.Sprintf("%#v", *p), "Sprint": fmt.Sprint(p.MailboxPIN),
	} {
		if strings.Contains(out, "987654") {
			t.Errorf("%s output carries the PIN: %s", what, out)
		}
		if !strings.Contains(out, "****") {
			t.Errorf("%s output does not show the masked PIN: %s", what, out)
		}
	}
	if !strings.Contains(logged.String(), `"user":"alice"`) {
		t.Errorf("slog output lacks the profile's fields: %s", logged.String())
	}
}

// TestConcurrentBuild builds from one Set on many goroutines (run with -race): a Set is
// immutable, and a profile never shares slices or maps with another.
func TestConcurrentBuild(t *testing.T) {
	s, err := profile.LoadFS(templates.FS, ".")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				user := fmt.Sprintf("u%d-%d", g, i)
				req := request.New("INVITE", request.URI{Scheme: "sip", User: "1002", Host: "h"},
					request.Address{URI: request.URI{Scheme: "sip", User: user, Host: "h"}}, request.Address{}, "c", request.Sample().Source, "udp",
					[]request.Field{{Name: "X-Caller-Template", Value: "subscriber"}})
				caller, _, err := s.Select(req)
				if err != nil {
					errs <- err
					return
				}
				p, err := s.Build(caller, profile.RoleCaller, req)
				if err != nil {
					errs <- err
					return
				}
				if p.User != user {
					errs <- fmt.Errorf("user %q, want %q", p.User, user)
					return
				}
				p.Codecs[0] = "mutated" // must not leak into other profiles
				p.Codecs = append(p.Codecs, "x")
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	p, err := s.Build(profile.Match{Name: "subscriber"}, profile.RoleCaller, request.Sample())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"pcmu", "pcma", "g722"}, p.Codecs); diff != "" {
		t.Errorf("codecs changed by callers (-want +got):\n%s", diff)
	}
}

func TestSelectDefaults(t *testing.T) {
	s := loadSet(t, map[string]string{"t.conf": "[a]\n[b]\ncontext = b\n"})
	req := request.New("INVITE", request.URI{Scheme: "sip", Host: "h"}, request.Address{}, request.Address{}, "c", request.Endpoint{}, "udp",
		[]request.Field{{Name: "x-caller-template", Value: "a;User=Alice"}, {Name: "X-Callee-Template", Value: "b"}})
	caller, callee, err := s.Select(req)
	if err != nil {
		t.Fatal(err)
	}
	want := []profile.Match{{Name: "a", Params: map[string]string{"user": "Alice"}}, {Name: "b"}}
	if diff := cmp.Diff(want, []profile.Match{caller, callee}); diff != "" {
		t.Errorf("Select (-want +got):\n%s", diff)
	}
}

// TestPINErrorNeverShowsValue builds mailbox-pin from header data that fails validation or
// expansion in several ways: the error (which is logged) never carries the header's text.
func TestPINErrorNeverShowsValue(t *testing.T) {
	s := loadSet(t, map[string]string{"t.conf": `[t]
mailbox-pin = {{ .Header "X-Pin" }}
[date]
mailbox-pin = {{ mustToDate "2006-01-02" (.Header "X-Pin") | date "0102" }}
[fail]
mailbox-pin = {{ fail (.Header "X-Pin") }}
`})
	const secret = "98x7654"
	req := request.New("INVITE", request.URI{Scheme: "sip", User: "1", Host: "h"}, request.Address{}, request.Address{}, "c", request.Endpoint{}, "udp",
		[]request.Field{{Name: "X-Pin", Value: secret}})
	long := request.New("INVITE", request.URI{Scheme: "sip", User: "1", Host: "h"}, request.Address{}, request.Address{}, "c", request.Endpoint{}, "udp",
		[]request.Field{{Name: "X-Pin", Value: strings.Repeat("7", 40)}})
	for _, tc := range []struct {
		tmpl string
		req  *request.Request
		want string
	}{
		{"t", req, "mailbox PIN must be digits only"},
		{"t", long, "mailbox PIN longer than 32 digits"},
		{"date", req, "error calling mustToDate (details hidden"},
		{"fail", req, "error calling fail (details hidden"},
	} {
		_, err := s.Build(profile.Match{Name: tc.tmpl}, profile.RoleCaller, tc.req)
		if err == nil {
			t.Fatalf("%s: built", tc.tmpl)
		}
		msg := err.Error()
		if strings.Contains(msg, "98") || strings.Contains(msg, "777") {
			t.Errorf("%s: error shows the value: %s", tc.tmpl, msg)
		}
		if !strings.Contains(msg, tc.want) || !strings.Contains(msg, "mailbox-pin") {
			t.Errorf("%s: error %q lacks %q", tc.tmpl, msg, tc.want)
		}
	}
}

// TestErrorsTruncateValues checks that an error quoting an expanded value quotes at most 64
// bytes of it.
func TestErrorsTruncateValues(t *testing.T) {
	s := loadSet(t, map[string]string{"t.conf": `[loc]
location = {{ .Header "X-V" }}
[user]
user = {{ .Header "X-V" }}
[cid]
callerid = {{ .Header "X-V" }}
[var]
set-var = {{ .Header "X-V" }}
[ctx]
context = {{ .Header "X-V" }}x
[codec]
codecs = {{ .Header "X-V" }}
`})
	long := strings.Repeat("Q", 200)
	for _, tc := range []struct{ tmpl, value string }{
		{"loc", "mailto:" + long}, {"user", long[:100] + "@"}, {"cid", long + " <1<2>"},
		{"var", long}, {"ctx", long[:70] + "!"}, {"codec", long},
	} {
		req := request.New("INVITE", request.URI{Scheme: "sip", User: "1", Host: "h"}, request.Address{}, request.Address{}, "c", request.Endpoint{}, "udp",
			[]request.Field{{Name: "X-V", Value: tc.value}})
		_, err := s.Build(profile.Match{Name: tc.tmpl}, profile.RoleCaller, req)
		if err == nil {
			t.Fatalf("%s: built", tc.tmpl)
		}
		if n := strings.Count(err.Error(), "Q"); n > 64 || n == 0 {
			t.Errorf("%s: error quotes %d bytes of the value, want 1..64: %s", tc.tmpl, n, err)
		}
		if !strings.Contains(err.Error(), `..."`) && !strings.Contains(err.Error(), `"...`) {
			t.Errorf("%s: error does not mark the cut: %s", tc.tmpl, err)
		}
	}
}
