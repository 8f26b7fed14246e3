package request

import (
	"net/netip"
	"testing"

	"github.com/emiago/sipgo/sip"
)

// TestFromSIPDisplay checks that Display is the display name itself: quotes removed and
// backslash escapes undone.
func TestFromSIPDisplay(t *testing.T) {
	for _, tc := range []struct{ from, want string }{
		{`"Bob \"The Builder\"" <sip:1001@example.com>;tag=a`, `Bob "The Builder"`},
		{`"back\\slash" <sip:1001@example.com>;tag=a`, `back\slash`},
		{`"Smith, <Bob>" <sip:1001@example.com>;tag=a`, `Smith, <Bob>`},
		{`Bob Smith <sip:1001@example.com>;tag=a`, `Bob Smith`},
		{`<sip:1001@example.com>;tag=a`, ``},
	} {
		raw := "INVITE sip:1002@h SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK-1\r\n" +
			"From: " + tc.from + "\r\nTo: <sip:1002@h>\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n"
		m, err := sip.NewParser().ParseSIP([]byte(raw))
		if err != nil {
			t.Fatalf("%s: %v", tc.from, err)
		}
		r, err := FromSIP(m.(*sip.Request), netip.MustParseAddrPort("127.0.0.1:5062"), "udp")
		if err != nil {
			t.Fatal(err)
		}
		if r.From.Display != tc.want {
			t.Errorf("From %s: Display %q, want %q", tc.from, r.From.Display, tc.want)
		}
	}
}
