package request

import (
	"net/netip"
	"testing"

	"github.com/emiago/sipgo/sip"
)

// SourceOf trusts only the address the transport recorded; the top Via, which the sender
// writes (and which sipgo's req.Source() falls back to), never counts.
func TestSourceOf(t *testing.T) {
	newReq := func(src string) *sip.Request {
		req := sip.NewRequest(sip.OPTIONS, sip.Uri{Scheme: "sip", Host: "192.0.2.1"})
		req.AppendHeader(sip.NewHeader("Via", "SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKx"))
		if src != "" {
			req.SetSource(src)
		}
		return req
	}
	tests := []struct {
		name, src string
		want      netip.AddrPort
		wantErr   bool
	}{
		{"ipv4", "192.0.2.7:5060", netip.MustParseAddrPort("192.0.2.7:5060"), false},
		{"ipv6", "[2001:db8::1]:5080", netip.MustParseAddrPort("[2001:db8::1]:5080"), false},
		{"no transport source, Via only", "", netip.AddrPort{}, true},
		{"not an address", "example.com:5060", netip.AddrPort{}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := newReq(tc.src)
			if tc.src == "" && req.Source() != "127.0.0.1:5060" {
				t.Fatalf("test premise: sipgo's Source() = %q, want the Via fallback", req.Source())
			}
			got, err := SourceOf(req)
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Errorf("SourceOf = %v, %v; want %v, error %v", got, err, tc.want, tc.wantErr)
			}
		})
	}
	if _, err := SourceOf(nil); err == nil {
		t.Error("SourceOf(nil): no error")
	}
}
