package request

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestHeaderLookup(t *testing.T) {
	r := New("INVITE", URI{}, Address{}, Address{}, "c", Endpoint{}, "udp", []Field{
		{Name: "X-MailBoxId", Value: "1001"},
		{Name: "f", Value: "<sip:a@h>"},
		{Name: "x-mailboxid", Value: "1002"},
		{Name: "Subject", Value: ""},
		{Name: "V", Value: "SIP/2.0/UDP h"},
	})
	tests := []struct {
		name string
		want string
		all  []string
		has  bool
	}{
		{"X-MailBoxId", "1001", []string{"1001", "1002"}, true},
		{" x-MAILBOXID ", "1001", []string{"1001", "1002"}, true},
		{"From", "<sip:a@h>", []string{"<sip:a@h>"}, true},
		{"F", "<sip:a@h>", []string{"<sip:a@h>"}, true},
		{"s", "", []string{""}, true},
		{"via", "SIP/2.0/UDP h", []string{"SIP/2.0/UDP h"}, true},
		{"X-Missing", "", nil, false},
		{"X", "", nil, false},
	}
	for _, tt := range tests {
		if got := r.Header(tt.name); got != tt.want {
			t.Errorf("Header(%q) = %q, want %q", tt.name, got, tt.want)
		}
		if diff := cmp.Diff(tt.all, r.Headers(tt.name)); diff != "" {
			t.Errorf("Headers(%q) (-want +got):\n%s", tt.name, diff)
		}
		if got := r.HasHeader(tt.name); got != tt.has {
			t.Errorf("HasHeader(%q) = %v, want %v", tt.name, got, tt.has)
		}
	}
	if n := testing.AllocsPerRun(100, func() { r.Header("X-MAILBOXID") }); n != 0 {
		t.Errorf("Header allocates %v times per lookup, want 0", n)
	}
}
