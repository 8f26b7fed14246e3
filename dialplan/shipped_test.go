package dialplan

import (
	"context"
	"net/netip"
	"strings"
	"testing"

	"github.com/sidecar-voip/sidecar/profile"
	"github.com/sidecar-voip/sidecar/request"
	"github.com/sidecar-voip/sidecar/templates"
)

// TestShippedTemplatesAndDialplan runs requests through the shipped profile templates and the
// shipped dialplan together (package profile builds the profiles, as the SIP service does), so
// the contexts the templates name exist and lead where the docs say.
func TestShippedTemplatesAndDialplan(t *testing.T) {
	set, err := profile.LoadFS(templates.FS, ".")
	if err != nil {
		t.Fatalf("shipped templates: %v", err)
	}
	reg := shippedRegistry(t)
	plan, err := LoadFS(templates.FS, ".", reg)
	if err != nil {
		t.Fatalf("shipped dialplan: %v", err)
	}
	kam := request.Endpoint{IP: netip.MustParseAddr("192.0.2.1"), Port: 5060}
	invite := func(ruser string, headers ...request.Field) *request.Request {
		return request.New("INVITE",
			request.URI{Scheme: "sip", User: ruser, Host: "example.test"},
			request.Address{URI: request.URI{Scheme: "sip", User: "alice", Host: "example.test"}, Tag: "t1"},
			request.Address{URI: request.URI{Scheme: "sip", User: ruser, Host: "example.test"}},
			"call-1", kam, "udp", headers)
	}
	alice := request.Field{Name: "X-Caller-Template", Value: "subscriber;user=alice"}
	bob := request.Field{Name: "X-Callee-Template", Value: "subscriber;user=bob"}
	diversion := request.Field{Name: "Diversion", Value: "<sip:bob@example.test>;reason=no-answer;counter=1"}
	mbox := request.Field{Name: "X-MailBoxId", Value: "2001"}
	tests := []struct {
		name    string
		req     *request.Request
		context string
		want    string
		ran     string // a step the trace must hold (the media apps are no-ops here)
	}{
		{"subscriber calls *486", invite("*486", alice), "from-subscriber", "reject 486 Busy Here", ""},
		{"subscriber calls *302*bob", invite("*302*bob", alice), "from-subscriber", "redirect sip:bob@example.test", ""},
		{"call to bob without Diversion", invite("bob", alice, bob), "from-subscriber", "reject 480 Temporarily Unavailable", ""},
		{"outsider calls bob", invite("bob", bob), "to-subscriber", "reject 480 Temporarily Unavailable", ""},
		{"diverted to bob's voicemail", invite("bob", alice, bob, diversion, mbox), "from-subscriber", "reject 603 Decline", "VoiceMail(2001)"},
		{"alice dials *97", invite("*97", alice, mbox), "from-subscriber", "reject 603 Decline", "VoiceMailMain()"},
		{"nobody calls nobody", invite("carol"), "default", "reject 404 Not Found", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cm, em, err := set.Select(tc.req)
			if err != nil {
				t.Fatal(err)
			}
			ch := newRecorder(tc.req)
			if cm.Name != "" {
				if ch.caller, err = set.Build(cm, profile.RoleCaller, tc.req); err != nil {
					t.Fatal(err)
				}
			}
			if em.Name != "" {
				if ch.callee, err = set.Build(em, profile.RoleCallee, tc.req); err != nil {
					t.Fatal(err)
				}
			}
			ctxName := ContextFor(ch.caller, ch.callee, "default")
			if ctxName != tc.context {
				t.Errorf("context = %q, want %q", ctxName, tc.context)
			}
			trace, _ := ch.run(context.Background(), plan, ctxName, tc.req.RURI.User, nil)
			if got := ch.log(); got != tc.want {
				t.Errorf("events %q, want %q\ntrace:\n%s", got, tc.want, trace)
			}
			if tc.ran != "" && !strings.Contains(trace.String(), ": "+tc.ran+"\n") {
				t.Errorf("trace lacks %s:\n%s", tc.ran, trace)
			}
		})
	}
}

// shippedRegistry is the registry the shipped dialplan compiles with: the signalling
// applications, and the media ones as no-ops. The media applications belong to package app,
// which imports this package; the tests here run only extensions that use signalling
// applications, while cmd/sidecar's check test and app's end-to-end tests run the real ones.
func shippedRegistry(t *testing.T) *Registry {
	t.Helper()
	reg := NewRegistry()
	if err := RegisterSignalling(reg); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"Answer", "Echo", "Read", "Playback", "SayDigits", "VoiceMail", "VoiceMailMain"} {
		noop := func(context.Context, *Call, []string) (Result, error) { return Next(), nil }
		if err := reg.Register(App{Name: name, MaxArgs: -1, Run: noop}); err != nil {
			t.Fatal(err)
		}
	}
	return reg
}
