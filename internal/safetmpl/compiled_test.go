package safetmpl_test

import (
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"

	"golang.org/x/tools/txtar"

	"github.com/sidecar-voip/sidecar/internal/dialect"
	"github.com/sidecar-voip/sidecar/internal/safetmpl"
	"github.com/sidecar-voip/sidecar/profile"
	"github.com/sidecar-voip/sidecar/request"
	"github.com/sidecar-voip/sidecar/templates"
)

// The differential tests: every value runs on both paths, the compiled closures (Execute) and
// text/template (Reference), over several requests, and must give the same output and the
// same error, byte for byte.

// tricky are values written to probe the compiler's edges: each either compiles and must
// agree with text/template, or is left to text/template.
var tricky = []string{
	`{{ .From.User }}`, `a{{ .From.User }}b{{ .To.User }}c`, `{{ .Role }}`, `{{ .Source.IP }}`,
	`{{ .Source.Port }}`, `{{ .Source }}`, `{{ .RURI }}`, `{{ .RURI.Port }}`, `{{ .From.URI }}`,
	`{{ .From.URI.User }}`, `{{ .To.URI.Port }}`, `{{ .RURI.Param "transport" }}`, `{{ .RURI.Param "TRANSPORT" }}`,
	`{{ .Params.user }}`, `{{ .Params.nosuch }}`, `{{ .Params }}`, `{{ .Param "USER" }}`, `{{ .Param "nosuch" }}`,
	`{{ .Header "x-mailboxid" }}`, `{{ .Header "f" }}`, `{{ .Header "X-Evil" }}`, `{{ .Header }}`,
	`{{ .Header "a" "b" }}`, `{{ .HasHeader "X-MailBoxId" }}`, `{{ if .HasHeader "X-Nope" }}y{{ else }}n{{ end }}`,
	`{{ .Headers "Via" | join "," }}`, `{{ range .Fields }}{{ .Name }}={{ .Value }} {{ end }}`,
	`{{ .Form.User }}`, `{{ .From.User.X }}`, `{{ . }}`, `{{ $ }}`, `{{ $.From.User }}`, `{{ $.Source.IP }}`,
	`{{ .Role | upper }}`, `{{ upper .Role }}`, `{{ eq .Role "caller" }}`, `{{ ne .Role "callee" }}`,
	`{{ if eq .Role "caller" }}from-subscriber{{ else }}to-subscriber{{ end }}`,
	`{{ if eq .Role "x" }}a{{ else if eq .Role "callee" }}b{{ else }}c{{ end }}`,
	`{{ with .Param "user" }}u={{ . }}{{ else }}none{{ end }}`, `{{ with .Param "user" }}{{ $.From.User }}{{ . | upper }}{{ end }}`,
	`{{ with $x := .Param "user" }}{{ $x }}{{ . }}{{ end }}`, `{{ $u := .From.User }}{{ $u }}-{{ $u | upper }}`,
	`{{ $u := .From.User }}{{ $u = "x" }}{{ $u }}`, `{{ $ := 1 }}`, `{{ with .From.User }}{{ .User }}{{ end }}`,
	`{{ if $x := .Header "X-MailBoxId" }}{{ $x | trim }}{{ end }}`,
	`{{ .Param "user" | default .From.User }}`, `{{ default .From.User (.Param "user") }}`, `{{ default "" "" }}`,
	`{{ .Header "X-MailBoxId" | trim }}`, `{{ .From.Display | title }}`, `{{ .CallID | trunc 16 }}`,
	`{{ .CallID | trunc -3 }}`, `{{ trunc "3" .CallID }}`, `{{ .Template | upper }}`, `{{ .From.Host | lower }}`,
	`{{ .CallID | sha256sum | trunc 8 }}`, `{{ .From.Display | replace "\\" "\\\\" | replace "\"" "\\\"" }}`,
	`{{ .From.User | quote }}`, `{{ quote .From.User .To.User 3 true }}`, `{{ squote .Role }}`,
	`{{ printf "%s-%d" .From.User .Source.Port }}`, `{{ printf "%05d|%x|%q|%v" 42 .From.User .To.User .HasHeader "X" }}`,
	`{{ printf "%s" }}`, `{{ printf .From.User }}`, `{{ print .From.User 1 2 "a" "b" true }}`, `{{ println .CallID }}`,
	`{{ and .From.User .To.User }}`, `{{ or (.Param "user") .From.User }}`, `{{ or "" 0 false }}`, `{{ and 1 0 (fail "x") }}`,
	`{{ or "x" (fail "never") }}`, `{{ fail "boom" | and false }}`, `{{ .From.User | or "" }}`, `{{ not .From.User }}`,
	`{{ not (.Header "X-MailBoxPin") }}`, `{{ not 1 2 }}`, `{{ eq 1 1 }}`, `{{ eq 1 "1" }}`, `{{ eq .From.User "a" "b" .To.User }}`,
	`{{ eq .Source.Port 5060 }}`, `{{ eq true false }}`, `{{ eq .From.User }}`, `{{ lt 1 2 }}{{ le 2 2 }}{{ gt "b" "a" }}{{ ge 1 2 }}`,
	`{{ lt true false }}`, `{{ lt 1 "a" }}`, `{{ len .From.User }}`, `{{ len (splitList "," "a,b") }}`, `{{ len 3 }}`,
	`{{ index .Params "user" }}`, `{{ slice .From.User 1 }}`, `{{ hasPrefix "10" .From.User }}`, `{{ hasSuffix "x" .To.User }}`,
	`{{ trimPrefix "*302*" .RURI.User }}`, `{{ trimSuffix ".com" .From.Host }}`, `{{ contains "a" .From.Display }}`,
	`{{ empty .From.User }}`, `{{ empty (.Param "nosuch") }}`, `{{ empty .Role }}`,
	`{{ ternary .From.User .RURI.User (eq .Role "caller") }}`, `{{ or (.Param "user") (ternary .From.User .RURI.User (eq .Role "caller")) }}`,
	`{{ with or (.Param "user") (ternary .From.User .RURI.User (eq .Role "caller")) }}sip:{{ . }}@h{{ end }}`,
	`{{ atoi .From.User | add 1 }}`, `{{ atoi .From.User }}`, `{{ int .From.User }}`, `{{ toString 12 }}`, `{{ toString .Role }}`,
	`{{ substr 1 3 .From.User }}`, `{{ abbrev 5 .From.Display }}`, `{{ repeat 3 .From.User }}`, `{{ repeat 999999999 "a" }}`,
	`{{ repeat 4000 "ab" }}`, `{{ .From.User | repeat 5000 }}`, `{{ indent 2 .From.User }}`, `{{ nospace .From.Display }}`,
	`{{ coalesce (.Param "nosuch") .From.User }}`, `{{ coalesce "" "" }}`, `{{ regexReplaceAll "[0-9]" .From.User "x" }}`,
	`{{ regexMatch "^1" .From.User }}`, `{{ splitList "." .From.Host }}`, `{{ list 1 "a" }}`, `{{ fail "X-MailBoxPin is required" }}`,
	`{{ if not (.Header "X-MailBoxPin") }}{{ fail "X-MailBoxPin is required" }}{{ end }}{{ .Header "X-MailBoxPin" }}`,
	`{{ 3 }}{{ -3 }}{{ 0x10 }}{{ 1.5 }}{{ 'a' }}{{ 1e3 }}`, `{{ true }}{{ "s" }}{{ nil }}`, `{{ "a" | printf "%s%s" "b" }}`,
	`{{- .From.User -}}  x  {{- .To.User }}`, `{{/* c */}}{{ .From.User }}`, `{{ define "x" }}y{{ end }}{{ .From.User }}`,
	`{{ template "x" }}{{ define "x" }}y{{ end }}`, `{{ range $i, $v := until 3 }}{{ $i }}{{ end }}`,
	`{{ if .From.User }}{{ $a := 1 }}{{ $a }}{{ end }}{{ .To.User }}`, `{{ $a := 1 }}{{ if true }}{{ $a = 2 }}{{ end }}{{ $a }}`,
	`{{ $a := "" }}{{ with $b := .From.User }}{{ $a = $b }}{{ end }}{{ $a }}`, `{{ (.From.User) }}`, `{{ (printf "%s" .From.User).X }}`,
	`{{ .Method }}{{ .CallID }}{{ .Transport }}{{ .Template }}`, `{{ .To.Display }}{{ .To.Tag }}{{ .From.Tag }}{{ .RURI.Scheme }}`,
	`{{ .From.User | upper | lower | title | trim | quote | squote }}`, `{{ b64enc .From.User }}`, `{{ sha1sum .To.User }}`,
	`{{ initials .From.Display }}`, `{{ trimAll "1" .From.User }}`, `{{ seq 3 }}`, `{{ untilStep 0 10 3 }}`, `{{ until 3 }}`,
	`{{ dict "a" 1 }}`, `{{ first (list 1 2) }}`, `{{ max 1 2 }}`, `{{ add 1 2 }}`, `{{ sub 3 1 }}`, `{{ default 1 nil }}`,
	`{{ .Header "X-Evil" | upper }}`, `{{ if and (.Header "Diversion") .From.User }}d{{ end }}`,
	`{{ printf "%d" .Role }}`, `{{ printf "%T %T" .From.User 1 }}`, `{{ eq .Role .Role }}`, `{{ eq (.Role) "caller" }}`,
}

var action = regexp.MustCompile(`{{.*?}}`)

// shippedValues returns every value of the shipped template files, the examples, the golden
// test inputs and docs: whole values and each {{ }} action on its own.
func shippedValues(t *testing.T) (values []string, profileValues []string) {
	t.Helper()
	root := "../.."
	seen := map[string]bool{}
	add := func(v string) {
		if strings.Contains(v, "{{") && !seen[v] {
			seen[v] = true
			values = append(values, v)
		}
		for _, a := range action.FindAllString(v, -1) {
			if !seen[a] {
				seen[a] = true
				values = append(values, a)
			}
		}
	}
	loadConf := func(fsys fs.FS, names ...string) []string {
		doc, _ := dialect.Load(fsys, names...)
		var out []string
		if doc == nil {
			return nil
		}
		for _, sec := range doc.Sections {
			for _, l := range sec.Lines {
				add(l.Value)
				out = append(out, l.Value)
			}
		}
		return out
	}
	for _, name := range []string{"templates.conf", "endpoints.conf"} {
		for _, v := range loadConf(templates.FS, name) {
			if strings.Contains(v, "{{") {
				profileValues = append(profileValues, v)
			}
		}
	}
	loadConf(templates.FS, "extensions.conf")
	golden, _ := filepath.Glob(filepath.Join(root, "*/testdata/golden/*.txtar"))
	for _, file := range golden {
		ar, err := txtar.ParseFile(file)
		if err != nil {
			t.Fatal(err)
		}
		fsys := fstestMap(ar)
		for name := range fsys {
			if strings.HasSuffix(name, ".conf") {
				loadConf(fsys, name)
			}
		}
	}
	docs, _ := filepath.Glob(filepath.Join(root, "docs/*.md"))
	examples, _ := filepath.Glob(filepath.Join(root, "examples/*"))
	for _, file := range append(docs, examples...) {
		data, err := os.ReadFile(file)
		if err != nil {
			continue // a directory
		}
		for _, line := range strings.Split(string(data), "\n") {
			for _, a := range action.FindAllString(strings.ReplaceAll(line, `\|`, "|"), -1) {
				add(a)
			}
		}
	}
	if len(profileValues) < 5 || len(values) < 40 {
		t.Fatalf("found %d shipped profile values and %d values in all: the files moved?", len(profileValues), len(values))
	}
	return values, profileValues
}

func fstestMap(ar *txtar.Archive) fstest.MapFS {
	m := fstest.MapFS{}
	for _, f := range ar.Files {
		m[f.Name] = &fstest.MapFile{Data: f.Data}
	}
	return m
}

// requests are the data the values run over: ordinary, empty, hostile.
func requests() []*profile.Data {
	plain := request.New("INVITE",
		request.URI{Scheme: "sip", User: "1002", Host: "sidecar.example", Params: map[string]string{"transport": "tcp"}},
		request.Address{Display: `alice "a\b" smith`, URI: request.URI{Scheme: "sip", User: "1001", Host: "Example.COM"}, Tag: "t1", User: "1001", Host: "Example.COM"},
		request.Address{URI: request.URI{Scheme: "sip", User: "*302*1002", Host: "example.com"}, User: "*302*1002", Host: "example.com"},
		"a84b4c76e66710@pc33.example.com",
		request.Endpoint{IP: netip.MustParseAddr("10.0.0.1"), Port: 5060}, "udp",
		[]request.Field{
			{Name: "Via", Value: "SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK776asdhds"},
			{Name: "Via", Value: "SIP/2.0/UDP 10.0.0.2"},
			{Name: "f", Value: "<sip:x@y>"},
			{Name: "X-MailBoxId", Value: " 1001 "},
			{Name: "X-MailBoxPin", Value: "4321"},
			{Name: "X-Evil", Value: `{{ .From.User }}{{ env "HOME" }}` + "\x00\r\n"},
			{Name: "Diversion", Value: "<sip:1002@x>"},
		})
	empty := request.New("OPTIONS", request.URI{}, request.Address{}, request.Address{}, "",
		request.Endpoint{IP: netip.MustParseAddr("2001:db8::1"), Port: 0}, "tls", nil)
	long := request.New("INVITE", request.URI{Scheme: "sips", User: strings.Repeat("9", 3000), Host: "h"},
		request.Address{Display: "élan ☃", User: strings.Repeat("ab", 1500)}, request.Address{User: "100"},
		strings.Repeat("c", 5000), request.Endpoint{}, "tcp",
		[]request.Field{{Name: "X-MailBoxId", Value: ""}, {Name: "X-Evil", Value: "{{"}})
	return []*profile.Data{
		profile.NewData(plain, "subscriber", map[string]string{"user": "alice"}, profile.RoleCaller),
		profile.NewData(plain, "subscriber", map[string]string{"user": "alice"}, profile.RoleCallee),
		profile.NewData(request.Sample(), "", nil, profile.RoleCaller),
		profile.NewData(empty, "x", map[string]string{}, profile.RoleCallee),
		profile.NewData(long, "long", map[string]string{"user": ""}, profile.RoleCaller),
	}
}

// nondeterministic are functions whose output differs between two runs.
var nondeterministic = regexp.MustCompile(`rand|uuid|now|ago|shuffle|encrypt|date|Date|unixEpoch|genPrivate`)

func sameBothWays(t testing.TB, v safetmpl.Value, data any, limit int) {
	t.Helper()
	got, err := v.Execute(data, limit)
	want, errRef := v.Reference(data, limit)
	if got != want || (err == nil) != (errRef == nil) || err != nil && err.Error() != errRef.Error() {
		t.Fatalf("%q (compiled %v) over %T: got %q, %v; text/template %q, %v", v.Text(), v.Compiled(), data, got, err, want, errRef)
	}
}

func TestCompiledMatchesTextTemplate(t *testing.T) {
	funcs := safetmpl.Funcs()
	values, _ := shippedValues(t)
	compiled := 0
	for _, text := range append(values, tricky...) {
		if nondeterministic.MatchString(text) {
			continue
		}
		v, err := safetmpl.CompileFor("f.conf:1", text, funcs, profile.DataAccessors)
		if err != nil {
			continue // a syntax error: nothing runs
		}
		if v.Compiled() {
			compiled++
		}
		for _, d := range requests() {
			for _, limit := range []int{0, 8, 4096} {
				sameBothWays(t, v, d, limit)
			}
		}
		// Other data than the accessors' type: text/template runs.
		sameBothWays(t, v, request.Sample(), 0)
		sameBothWays(t, v, nil, 0)
	}
	if compiled < len(tricky)/2 {
		t.Fatalf("only %d values compiled", compiled)
	}
}

// TestShippedValuesCompiled checks that the values the shipped templates and the benchmark use
// all run compiled, without falling back to text/template, over an ordinary request.
func TestShippedValuesCompiled(t *testing.T) {
	funcs := safetmpl.Funcs()
	_, shipped := shippedValues(t)
	bench := []string{
		`{{ if eq .Role "caller" }}from-subscriber{{ else }}to-subscriber{{ end }}`,
		`{{ .Param "user" | default .From.User }}`, `{{ .Header "X-MailBoxId" | trim }}`,
		`sip:{{ .From.User }}@{{ .Source.HostPort }};transport={{ .Transport }}`,
		`"{{ .From.Display | title }}" <{{ .From.User }}>`, `CALLID={{ .CallID | trunc 16 }}`,
		`TEMPLATE={{ .Template | upper }}`, `{{ .From.Host | lower }}`, `{{ .CallID | sha256sum | trunc 8 }}`,
		`{{ .Header "X-Caller-Template" }}`, `{{ .Source.IP }}`, `{{ printf "%s:%d" .From.User .Source.Port }}`,
	}
	d := requests()[0]
	for _, text := range append(shipped, bench...) {
		v, err := safetmpl.CompileFor("f.conf:1", text, funcs, profile.DataAccessors)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := safetmpl.RunCompiled(v, d, 0); !ok {
			t.Errorf("%q does not run compiled", text)
		}
	}
}

// FuzzCompiled compiles arbitrary template texts and runs them over arbitrary header values on
// both paths: the output and the error must be the same.
func FuzzCompiled(f *testing.F) {
	for _, s := range tricky {
		f.Add(s, "alice", " 1001 ", "x")
	}
	f.Add(`{{ .Header "X-A" | trunc 3 }}{{ .Param "user" | default .From.User }}`, "{{ .From.User }}", "", "caller")
	funcs := safetmpl.Funcs()
	f.Fuzz(func(t *testing.T, text, user, hdr, param string) {
		if nondeterministic.MatchString(text) || len(text) > 512 {
			return
		}
		v, err := safetmpl.CompileFor("f.conf:1", text, funcs, profile.DataAccessors)
		if err != nil {
			return
		}
		req := request.New("INVITE", request.URI{Scheme: "sip", User: user, Host: "h"},
			request.Address{Display: hdr, User: user, Host: "example.com"}, request.Address{User: param},
			hdr+"@x", request.Endpoint{IP: netip.MustParseAddr("192.0.2.1"), Port: 5060}, "udp",
			[]request.Field{{Name: "X-A", Value: hdr}, {Name: "X-MailBoxId", Value: user}})
		role := profile.RoleCaller
		if param == "callee" {
			role = profile.RoleCallee
		}
		for _, params := range []map[string]string{nil, {"user": param}} {
			d := profile.NewData(req, param, params, role)
			sameBothWays(t, v, d, 0)
			sameBothWays(t, v, d, 16)
		}
	})
}

// TestShortCircuit checks that and/or stop at the deciding argument on the compiled path too:
// a later argument that would fail is never evaluated.
func TestShortCircuit(t *testing.T) {
	d := requests()[0]
	for text, want := range map[string]string{
		`{{ or .From.User (fail "never") }}`:            "1001",
		`{{ and "" (fail "never") }}`:                   "",
		`{{ or "" .To.User }}`:                          "*302*1002",
		`{{ .From.User | or "" }}`:                      "1001",
		`{{ and .From.User (.Header "X-MailBoxPin") }}`: "4321",
	} {
		v, err := safetmpl.CompileFor("f.conf:1", text, safetmpl.Funcs(), profile.DataAccessors)
		if err != nil {
			t.Fatal(err)
		}
		if got, ok := safetmpl.RunCompiled(v, d, 0); !ok || got != want {
			t.Errorf("%s: compiled %q, %v; want %q", text, got, ok, want)
		}
	}
}
