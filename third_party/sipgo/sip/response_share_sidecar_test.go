package sip

// sidecar patch test: NewResponseFromRequest shares with the request the headers it copies
// unchanged and owns only those it changes (a To getting our tag, a top Via whose rport is
// filled in); the text is the same as with clones.

import (
	"strings"
	"testing"
)

func TestResponseSharesUnchangedHeadersSidecar(t *testing.T) {
	parse := func(toTag, rport string) *Request {
		raw := strings.Join([]string{
			"INVITE sip:bob@127.0.0.1 SIP/2.0",
			"Via: SIP/2.0/UDP 10.0.0.1:5070;branch=z9hG4bK-1" + rport,
			"Via: SIP/2.0/UDP 10.0.0.2:5070;branch=z9hG4bK-2",
			"From: \"Alice\" <sip:alice@example.com>;tag=a",
			"To: <sip:bob@example.com>" + toTag,
			"Call-ID: share-1",
			"CSeq: 7 INVITE",
			"Contact: <sip:alice@10.0.0.1:5070>",
			"Content-Length: 0", "", ""}, "\r\n")
		msg, err := ParseMessage([]byte(raw))
		if err != nil {
			t.Fatal(err)
		}
		req := msg.(*Request)
		req.SetSource("10.0.0.9:5999")
		return req
	}

	// A request with a To tag, no rport: every copied header shared, none cloned.
	req := parse(";tag=ours", "")
	before := req.String()
	res := NewResponseFromRequest(req, 200, "OK", nil)
	vias := res.GetHeaders("Via")
	if len(vias) != 2 || vias[0] != Header(req.Via()) || res.From() != req.From() || res.To() != req.To() ||
		res.CallID() != req.CallID() || res.CSeq() != req.CSeq() {
		t.Fatal("an unchanged header of the response is a copy, not the request's")
	}
	want := "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 10.0.0.1:5070;branch=z9hG4bK-1\r\nVia: SIP/2.0/UDP 10.0.0.2:5070;branch=z9hG4bK-2\r\n" +
		"From: \"Alice\" <sip:alice@example.com>;tag=a\r\nTo: <sip:bob@example.com>;tag=ours\r\nCall-ID: share-1\r\n" +
		"CSeq: 7 INVITE\r\nContent-Length: 0\r\n\r\n"
	if got := res.String(); got != want {
		t.Fatalf("response\n%q\nwant\n%q", got, want)
	}
	// 100 Trying keeps an untagged To: shared too.
	untagged := parse("", "")
	if r := NewResponseFromRequest(untagged, 100, "Trying", nil); r.To() != untagged.To() || r.To().Params.Has("tag") {
		t.Fatal("the 100's To is not the request's untagged To")
	}
	// Bound: the response, its header list, its Content-Length (upstream: also a clone of
	// each Via, the From and To with their parameters, the Call-ID and the CSeq: 12 more).
	if n := testing.AllocsPerRun(100, func() { NewResponseFromRequest(req, 200, "OK", nil) }); n > 4 {
		t.Errorf("NewResponseFromRequest: %.0f allocations, want <= 4", n)
	}

	// A To without a tag gets ours on a clone; rport is filled in on a clone of the top Via;
	// the request is unchanged, its other Via still shared.
	req = parse("", ";rport")
	before = req.String()
	res = NewResponseFromRequest(req, 486, "Busy Here", nil)
	if res.To() == req.To() || !res.To().Params.Has("tag") || req.To().Params.Has("tag") {
		t.Fatal("the To tag not added on the response's own To")
	}
	vias = res.GetHeaders("Via")
	reqVias := req.GetHeaders("Via")
	if vias[0] == reqVias[0] || vias[1] != reqVias[1] {
		t.Fatal("the top Via not cloned for its rport, or the second one not shared")
	}
	if got := vias[0].Value(); got != "SIP/2.0/UDP 10.0.0.1:5070;branch=z9hG4bK-1;rport=5999;received=10.0.0.9" {
		t.Fatalf("top Via %q", got)
	}
	if req.String() != before {
		t.Fatalf("the request changed:\n%s\nwas\n%s", req.String(), before)
	}
}
