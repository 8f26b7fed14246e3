package request_test

import (
	"net/netip"
	"testing"

	"github.com/emiago/sipgo/sip"
	"github.com/sidecar-voip/sidecar/request"
)

// benchInvite is an INVITE as SIPp's uac scenario sends it, with the header the shipped
// templates read (X-Caller-Template).
const benchInvite = "INVITE sip:*43@127.0.0.1:5080 SIP/2.0\r\n" +
	"Via: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK-4242-1-0\r\n" +
	"From: \"sipp\" <sip:sipp@127.0.0.1:5062>;tag=4242SIPpTag001\r\n" +
	"To: <sip:*43@127.0.0.1:5080>\r\n" +
	"Call-ID: 1-4242@127.0.0.1\r\n" +
	"CSeq: 1 INVITE\r\n" +
	"Contact: <sip:sipp@127.0.0.1:5062>\r\n" +
	"Max-Forwards: 70\r\n" +
	"Subject: Performance Test\r\n" +
	"X-Caller-Template: subscriber;user=alice\r\n" +
	"Content-Type: application/sdp\r\n" +
	"Content-Length: 0\r\n\r\n"

func parseBench(b *testing.B) *sip.Request {
	m, err := sip.ParseMessage([]byte(benchInvite))
	if err != nil {
		b.Fatal(err)
	}
	return m.(*sip.Request)
}

// BenchmarkFromSIP is the view alone, as routing builds it once per INVITE.
func BenchmarkFromSIP(b *testing.B) {
	sreq := parseBench(b)
	src := netip.MustParseAddrPort("127.0.0.1:5062")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := request.FromSIP(sreq, src, "udp"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFromSIPRead is the view plus what a typical call reads of it: the template-choice
// header twice (identifier, then the profile), a missing header and the From user.
func BenchmarkFromSIPRead(b *testing.B) {
	sreq := parseBench(b)
	src := netip.MustParseAddrPort("127.0.0.1:5062")
	b.ReportAllocs()
	for b.Loop() {
		r, err := request.FromSIP(sreq, src, "udp")
		if err != nil {
			b.Fatal(err)
		}
		if r.Header("X-Caller-Template") == "" || r.Header("x-caller-template") == "" ||
			r.HasHeader("X-Callee-Template") || r.From.User != "sipp" {
			b.Fatal("wrong view")
		}
	}
}
