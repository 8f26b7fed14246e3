package sip

// sidecar patch tests: a lazy header accessor allocates nothing for a header the message
// does not have (lazyHeader), and a request line is parsed into the request itself
// (parseLineCap).

import "testing"

func TestLazyHeaderAbsentNoAllocSidecar(t *testing.T) {
	res := NewResponse(200, "OK")
	res.AppendHeader(NewHeader("X-Other", "1"))
	n := testing.AllocsPerRun(100, func() {
		if res.Contact() != nil || res.ContentType() != nil || res.MaxForwards() != nil ||
			res.Route() != nil || res.RecordRoute() != nil || res.ReferTo() != nil ||
			res.ReferredBy() != nil || res.ContentLength() != nil {
			t.Fatal("a header found in a response without it")
		}
	})
	if n > 0 {
		t.Fatalf("looking up absent headers: %.0f allocations, want 0", n)
	}

	// Present ones are parsed (once, then kept) as before.
	raw := "INVITE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1\r\n" +
		"From: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>\r\nCall-ID: c1\r\nCSeq: 1 INVITE\r\n" +
		"Contact: \"A\" <sip:a@10.0.0.1:5060>;expires=60\r\nMax-Forwards: 70\r\nContent-Type: application/sdp\r\n" +
		"Route: <sip:p1@example.com;lr>\r\nRecord-Route: <sip:p2@example.com;lr>\r\nRefer-To: <sip:c@example.com>\r\n" +
		"Content-Length: 0\r\n\r\n"
	msg, err := ParseMessage([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	req := msg.(*Request)
	if c := req.Contact(); c == nil || c.DisplayName != "A" || c.Address.Host != "10.0.0.1" || c.Params.GetOr("expires", "") != "60" {
		t.Fatalf("Contact %v", c)
	}
	if req.Contact() != req.Contact() {
		t.Fatal("Contact parsed again")
	}
	if h := req.MaxForwards(); h == nil || h.Val() != 70 {
		t.Fatalf("Max-Forwards %v", h)
	}
	if h := req.ContentType(); h == nil || h.Value() != "application/sdp" {
		t.Fatalf("Content-Type %v", h)
	}
	if h := req.Route(); h == nil || h.Address.User != "p1" {
		t.Fatalf("Route %v", h)
	}
	if h := req.RecordRoute(); h == nil || h.Address.User != "p2" {
		t.Fatalf("Record-Route %v", h)
	}
	if h := req.ReferTo(); h == nil || h.Address.User != "c" {
		t.Fatalf("Refer-To %v", h)
	}
}

func TestParseRequestLineIntoRequestSidecar(t *testing.T) {
	const line = "INVITE sip:bob@example.com;transport=udp SIP/2.0"
	var msg Message
	n := testing.AllocsPerRun(100, func() {
		var err error
		if msg, err = parseLineCap(line, 8); err != nil {
			t.Fatal(err)
		}
	})
	req := msg.(*Request)
	if req.Method != INVITE || req.Recipient.User != "bob" || req.Recipient.UriParams.GetOr("transport", "") != "udp" ||
		req.SipVersion != "SIP/2.0" || cap(req.headerOrder) != 8 {
		t.Fatalf("parsed %s", req.StartLine())
	}
	// The request, its header list and the URI's parameters (upstream: 5, with the URI
	// parsed aside and its parameters cloned into the request).
	if n > 3 {
		t.Fatalf("parsing a request line: %.0f allocations, want 3", n)
	}
	if _, err := parseLineCap("INVITE * SIP/2.0", 8); err == nil {
		t.Fatal("a wildcard Request-URI accepted")
	}
}
