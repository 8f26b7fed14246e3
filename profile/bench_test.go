package profile_test

import (
	"net/netip"
	"slices"
	"testing"
	"time"

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
	slices.Sort(durs)
	b.ReportMetric(float64(durs[len(durs)/2].Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(durs[len(durs)*99/100].Nanoseconds()), "p99-ns")
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
