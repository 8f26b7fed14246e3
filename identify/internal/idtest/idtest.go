// Package idtest builds the real parts identifier tests run on: a compiled *profile.Set from
// template text, and requests.
package idtest

import (
	"net/netip"
	"testing"
	"testing/fstest"

	"github.com/sidecar-voip/sidecar/profile"
	"github.com/sidecar-voip/sidecar/request"
)

// Templates is a template file the identifier tests share: [template-match] reading the two
// headers, concrete templates "subscriber", "trunk", "carrier-a", "user-alice", "alice",
// "anonymous", and the abstract "base".
const Templates = `
[template-match]
template-as-caller = {{ .Header "X-Caller-Template" }}
template-as-callee = {{ .Header "X-Callee-Template" }}

[base](!)
codecs = ulaw, alaw

[subscriber](base)
user = {{ or (.Param "user") .From.User }}

[trunk](base)
context = from-trunk

[carrier-a](base)
context = from-carrier-a

[user-alice](base)
user = alice

[alice](base)
user = alice

[anonymous](base)
context = from-anonymous
`

// Set compiles template text (one file, templates.conf) into a *profile.Set.
func Set(t testing.TB, text string) *profile.Set {
	t.Helper()
	fsys := fstest.MapFS{"templates.conf": {Data: []byte(text)}}
	s, err := profile.LoadFS(fsys, ".")
	if err != nil {
		t.Fatalf("compile templates: %v", err)
	}
	return s
}

// Request returns an INVITE from src ("ip:port") with the given From user and header lines
// (name, value, name, value, ...).
func Request(src, fromUser string, headers ...string) *request.Request {
	ap := netip.MustParseAddrPort(src)
	var fields []request.Field
	for i := 0; i+1 < len(headers); i += 2 {
		fields = append(fields, request.Field{Name: headers[i], Value: headers[i+1]})
	}
	return request.New("INVITE",
		request.URI{Scheme: "sip", User: "1002", Host: "sidecar.invalid"},
		request.Address{URI: request.URI{Scheme: "sip", User: fromUser, Host: "example.invalid"}, Tag: "t1"},
		request.Address{URI: request.URI{Scheme: "sip", User: "1002", Host: "example.invalid"}},
		"call-1@test", request.Endpoint{IP: ap.Addr(), Port: int(ap.Port())}, "udp", fields)
}
