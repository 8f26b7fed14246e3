package app

import (
	"testing"
	"time"

	"github.com/sidecar-voip/sidecar/request"
)

func TestDiversionBusy(t *testing.T) {
	for _, tc := range []struct {
		hdr  string
		busy bool
	}{
		{"<sip:1001@example.org>;reason=user-busy;counter=1", true},
		{`<sip:1001@example.org>;counter=1;Reason="User-Busy"`, true},
		{"<sip:1001@example.org>;reason=no-answer", false},
		{"<sip:1001@example.org>;reason=unavailable", false},
		{"<sip:1001@example.org>", false},
		{"", false},
	} {
		var hdrs []request.Field
		if tc.hdr != "" {
			hdrs = []request.Field{{Name: "Diversion", Value: tc.hdr}}
		}
		req := request.New("INVITE", request.URI{}, request.Address{}, request.Address{}, "c", request.Endpoint{}, "udp", hdrs)
		if got := diversionBusy(req); got != tc.busy {
			t.Errorf("Diversion %q: busy %v, want %v", tc.hdr, got, tc.busy)
		}
	}
}

func TestParseNameAddr(t *testing.T) {
	for _, tc := range []struct{ in, user, display string }{
		{`"Bob Smith" <sip:5551234@example.org>;tag=1`, "5551234", "Bob Smith"},
		{`<tel:+4930123;phone-context=x>`, "+4930123", ""},
		{`sip:1001@example.org;user=phone`, "1001", ""},
		{`Alice <sips:alice@example.org>, <tel:1>`, "alice", "Alice"},
	} {
		u, d := parseNameAddr(tc.in)
		if u != tc.user || d != tc.display {
			t.Errorf("%q: %q %q, want %q %q", tc.in, u, d, tc.user, tc.display)
		}
	}
}

func TestLockout(t *testing.T) {
	now := time.Unix(1000, 0)
	l := newLockout(3, time.Minute)
	l.now = func() time.Time { return now }
	for i := range 2 {
		if l.fail("1001") || l.locked("1001") {
			t.Fatalf("locked after %d failures", i+1)
		}
	}
	if !l.fail("1001") || !l.locked("1001") || l.locked("1002") {
		t.Fatal("not locked after 3 failures, or another mailbox locked")
	}
	now = now.Add(time.Minute)
	if l.locked("1001") {
		t.Fatal("still locked after the lockout")
	}
	if l.fail("1001") {
		t.Fatal("one failure after a lockout locked again")
	}
	l.ok("1001")
	if len(l.byMb) != 0 {
		t.Fatal("a login did not forget the failures")
	}
	for i := range maxLockEntries + 10 {
		l.fail(string(rune('a'+i%26)) + time.Duration(i).String())
	}
	if len(l.byMb) > maxLockEntries {
		t.Fatalf("%d entries, bound %d", len(l.byMb), maxLockEntries)
	}
}
