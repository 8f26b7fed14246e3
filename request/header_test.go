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
		if got := HeaderCount(r, tt.name); got != len(tt.all) {
			t.Errorf("HeaderCount(%q) = %d, want %d", tt.name, got, len(tt.all))
		}
	}
	// Kept as a unit test on purpose: AllocsPerRun counts heap allocations (not time), averaged
	// over 100 calls with GOMAXPROCS set to 1, so machine load cannot change the result (it
	// also passes under -race). The case-insensitive lookup must not lower-case the name into
	// a new string on every template execution. BenchmarkHeader reports the same with time.
	if n := testing.AllocsPerRun(100, func() { r.Header("X-MAILBOXID") }); n != 0 {
		t.Errorf("Header allocates %v times per lookup, want 0", n)
	}
}

func BenchmarkHeader(b *testing.B) {
	r := New("INVITE", URI{}, Address{}, Address{}, "c", Endpoint{}, "udp", []Field{
		{Name: "Via", Value: "SIP/2.0/UDP h"}, {Name: "From", Value: "<sip:a@h>"},
		{Name: "X-Caller-Template", Value: "subscriber"}, {Name: "X-MailBoxId", Value: "1001"},
	})
	b.ReportAllocs()
	for b.Loop() {
		if r.Header("X-MAILBOXID") != "1001" {
			b.Fatal("wrong header")
		}
	}
}
