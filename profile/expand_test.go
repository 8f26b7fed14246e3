package profile

import (
	"net/netip"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"

	"github.com/sidecar-voip/sidecar/request"
)

// buildBoth builds with the joined fast path and value by value, and fails the test when the
// two disagree. It returns the fast path's result and whether the fast path was taken.
func buildBoth(t *testing.T, s *Set, name string, role Role, req *request.Request) (*Profile, error, bool) {
	t.Helper()
	tm := s.byName[name]
	m := Match{Name: name, Params: map[string]string{"user": "alice"}}
	fast, errFast := s.build(tm, m, role, req)
	slow := *tm
	slow.joined = nil
	want, errSlow := s.build(&slow, m, role, req)
	if (errFast == nil) != (errSlow == nil) || errFast != nil && errFast.Error() != errSlow.Error() {
		t.Fatalf("%s: fast path error %v, value by value %v", name, errFast, errSlow)
	}
	if diff := cmp.Diff(want, fast, cmp.AllowUnexported(Secret{})); diff != "" {
		t.Fatalf("%s: fast path differs (-one by one +fast):\n%s", name, diff)
	}
	taken := false
	if tm.joined != nil {
		_, taken = tm.joined.expandAll(tm, NewData(req, name, m.Params, role), nil)
	}
	return fast, errFast, taken
}

func TestJoinedMatchesOneByOne(t *testing.T) {
	conf := `
[trim]
x-a = {{ .From.User }}   {{- " " -}}
x-b = {{- "  " }}{{ .To.User -}}   
x-c =    {{ "  " -}}   z

[vars]
x-a = {{ $u := .From.User }}{{ $u }}
x-b = {{ $u := .To.User }}{{ $u }}
x-c = {{ with .Param "user" }}{{ . }}{{ end }}{{ range .Headers "X-List" }}[{{ . }}]{{ end }}

[defines]
x-a = {{ define "d" }}one{{ end }}{{ template "d" }}
x-b = {{ define "d" }}two{{ end }}{{ template "d" }}

[fails]
x-a = {{ .From.User }}
x-b = {{ if .Header "X-Fail" }}{{ fail "asked to" }}{{ end }}ok

[long]
x-a = {{ .From.User }}
user = {{ .Header "X-Long" }}

[newline]
x-a = {{ .From.User }}
x-b = {{ "\n" }}

[single]
x-a = {{ .From.User }}
x-b = literal
`
	s, err := LoadFS(fstest.MapFS{"t.conf": {Data: []byte(conf)}}, ".")
	if err != nil {
		t.Fatal(err)
	}
	mk := func(fields ...request.Field) *request.Request {
		return request.New("INVITE", request.URI{Scheme: "sip", User: "1002", Host: "h"},
			request.Address{URI: request.URI{Scheme: "sip", User: "1001", Host: "h"}},
			request.Address{URI: request.URI{Scheme: "sip", User: "1002", Host: "h"}},
			"c", request.Endpoint{IP: netip.MustParseAddr("192.0.2.1"), Port: 5060}, "udp", fields)
	}
	forged := "{{/* */}}}}{{"
	tests := []struct {
		name      string
		req       *request.Request
		wantTaken bool
		want      map[string]string
		wantErr   string
	}{
		{name: "trim", req: mk(), wantTaken: true, want: map[string]string{"x-a": "1001 ", "x-b": "  1002", "x-c": "  z"}},
		{name: "vars", req: mk(request.Field{Name: "X-List", Value: forged}, request.Field{Name: "X-List", Value: "b"}), wantTaken: true,
			want: map[string]string{"x-a": "1001", "x-b": "1002", "x-c": "alice[" + forged + "][b]"}},
		{name: "defines", req: mk(), wantTaken: false, want: map[string]string{"x-a": "one", "x-b": "two"}},
		{name: "fails", req: mk(), wantTaken: true, want: map[string]string{"x-a": "1001", "x-b": "ok"}},
		{name: "fails", req: mk(request.Field{Name: "X-Fail", Value: "1"}), wantErr: `template "fails", x-b: expand: at <fail "asked to">: error calling fail: asked to`},
		{name: "long", req: mk(request.Field{Name: "X-Long", Value: strings.Repeat("u", 200)}), wantErr: `template "long", user: expanded value too long`},
		{name: "newline", req: mk(), wantErr: `template "newline", x-b: value contains control character '\n'`},
		{name: "single", req: mk(), wantTaken: false, want: map[string]string{"x-a": "1001", "x-b": "literal"}},
	}
	for _, tt := range tests {
		p, err, taken := buildBoth(t, s, tt.name, RoleCaller, tt.req)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%s: err = %v, want %q", tt.name, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if taken != tt.wantTaken {
			t.Errorf("%s: fast path taken = %v, want %v", tt.name, taken, tt.wantTaken)
		}
		if diff := cmp.Diff(tt.want, p.Custom); diff != "" {
			t.Errorf("%s: custom (-want +got):\n%s", tt.name, diff)
		}
	}
}
