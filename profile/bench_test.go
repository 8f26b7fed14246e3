package profile_test

import (
	"bytes"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"text/template"
	"time"

	"github.com/sidecar-voip/sidecar/internal/safetmpl"
	"github.com/sidecar-voip/sidecar/profile"
	"github.com/sidecar-voip/sidecar/request"
)

// benchTemplates is a 21-line profile over three levels of inheritance: 11 literal lines and
// 10 templated ones, most calling sprig functions.
const benchTemplates = `
[base](!)
disallow = all
allow = ulaw,alaw
allow = g722
language = en
dtmf-mode = rfc4733
mwi = yes
publish-dialog-info = yes
x-tier = standard

[mid](!,base)
context = {{ if eq .Role "caller" }}from-subscriber{{ else }}to-subscriber{{ end }}
allow = opus
x-region = eu

[bench](mid)
user = {{ .Param "user" | default .From.User }}
mailbox-id = {{ .Header "X-MailBoxId" | trim }}
mailbox-pin = {{ .Header "X-MailBoxPin" }}
location = sip:{{ .From.User }}@{{ .Source.HostPort }}\;transport={{ .Transport }}
callerid = "{{ .From.Display | title }}" <{{ .From.User }}>
set-var = CALLID={{ .CallID | trunc 16 }}
set-var = TEMPLATE={{ .Template | upper }}
x-domain = {{ .From.Host | lower }}
x-hash = {{ .CallID | sha256sum | trunc 8 }}
x-tier = gold
`

func benchRequest() *request.Request {
	return request.New("INVITE",
		request.URI{Scheme: "sip", User: "1002", Host: "sidecar.example"},
		request.Address{Display: "alice smith", URI: request.URI{Scheme: "sip", User: "1001", Host: "Example.COM"}, Tag: "t1"},
		request.Address{URI: request.URI{Scheme: "sip", User: "1002", Host: "example.com"}},
		"a84b4c76e66710@pc33.example.com",
		request.Endpoint{IP: netip.MustParseAddr("10.0.0.1"), Port: 5060}, "udp",
		[]request.Field{
			{Name: "Via", Value: "SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK776asdhds"},
			{Name: "X-Caller-Template", Value: "bench;user=alice"},
			{Name: "X-MailBoxId", Value: " 1001 "},
			{Name: "X-MailBoxPin", Value: "4321"},
		})
}

// BenchmarkBuild measures one Build of the 21-line profile; it reports the median and the
// 99th percentile of single builds besides the mean.
func BenchmarkBuild(b *testing.B) {
	s := loadSet(b, map[string]string{"bench.conf": benchTemplates})
	req := benchRequest()
	m := profile.Match{Name: "bench", Params: map[string]string{"user": "alice"}}
	p, err := s.Build(m, profile.RoleCaller, req)
	if err != nil {
		b.Fatal(err)
	}
	if p.User != "alice" || len(p.Codecs) != 4 || len(p.Vars) != 2 || len(p.Custom) != 4 || p.Location == "" {
		b.Fatalf("unexpected profile: %+v", p)
	}
	durs := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		t0 := time.Now()
		if _, err := s.Build(m, profile.RoleCaller, req); err != nil {
			b.Fatal(err)
		}
		durs = append(durs, time.Since(t0))
	}
	b.StopTimer()
	reportPercentiles(b, durs)
}

// BenchmarkSelectBuild is the per-request path of "sidecar serve": [template-match] for both
// parties, then both builds.
func BenchmarkSelectBuild(b *testing.B) {
	s := loadSet(b, map[string]string{"bench.conf": benchTemplates})
	req := benchRequest()
	b.ReportAllocs()
	for b.Loop() {
		caller, _, err := s.Select(req)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.Build(caller, profile.RoleCaller, req); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCompile measures a load of the benchmark templates (parse, compile, dry-run).
func BenchmarkCompile(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		loadSet(b, map[string]string{"bench.conf": benchTemplates})
	}
}

// BenchmarkRawTemplate is the reference for BenchmarkBuild, measured side by side: the same ten
// templated values as one text/template with sprig, executed once over the same data, with no
// selection, validation or profile. Build's cost over this is the price of the profile layer.
func BenchmarkRawTemplate(b *testing.B) {
	var lines []string
	for _, l := range strings.Split(benchTemplates, "\n") {
		if _, v, ok := strings.Cut(l, " = "); ok && strings.Contains(v, "{{") {
			lines = append(lines, strings.ReplaceAll(v, `\;`, ";"))
		}
	}
	if len(lines) != 10 {
		b.Fatalf("%d templated lines, want 10", len(lines))
	}
	tmpl := template.Must(template.New("raw").Option("missingkey=error").Funcs(safetmpl.Funcs()).Parse(strings.Join(lines, "\n")))
	data := profile.NewData(benchRequest(), "bench", map[string]string{"user": "alice"}, profile.RoleCaller)
	var buf bytes.Buffer
	durs := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		t0 := time.Now()
		buf.Reset()
		if err := tmpl.Execute(&buf, data); err != nil {
			b.Fatal(err)
		}
		durs = append(durs, time.Since(t0))
	}
	b.StopTimer()
	reportPercentiles(b, durs)
}

// reportPercentiles reports the median and the 99th percentile of single operations.
func reportPercentiles(b *testing.B, durs []time.Duration) {
	slices.Sort(durs)
	b.ReportMetric(float64(durs[len(durs)/2].Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(durs[len(durs)*99/100].Nanoseconds()), "p99-ns")
}
