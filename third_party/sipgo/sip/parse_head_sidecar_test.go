package sip

// sidecar patch test: Parse converts the start line and the header section to one string
// (parseHeaders' head), not the start line on its own.

import (
	"strings"
	"testing"
)

func TestParseStartLineInHeadSidecar(t *testing.T) {
	raw := []byte(strings.Join([]string{
		"BYE sip:bob@127.0.0.1:5060 SIP/2.0",
		"Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-1",
		"From: <sip:alice@example.com>;tag=a",
		"To: <sip:bob@example.com>;tag=b",
		"Call-ID: head-1",
		"CSeq: 2 BYE",
		"Content-Length: 0", "", ""}, "\r\n"))
	p := NewParser()
	var msg Message
	withHead := testing.AllocsPerRun(100, func() {
		var err error
		if msg, err = p.ParseSIP(raw); err != nil {
			t.Fatal(err)
		}
	})
	req := msg.(*Request)
	if req.Method != BYE || req.Recipient.User != "bob" || req.Recipient.Port != 5060 || req.SipVersion != "SIP/2.0" ||
		req.CallID().Value() != "head-1" || len(req.headerOrder) != 6 || req.String() != string(raw) {
		t.Fatalf("parsed\n%s", req.String())
	}
	// The same message parsed without the head string (start line converted on its own).
	withoutHead := testing.AllocsPerRun(100, func() {
		m, n, err := p.parseStartLineCap(raw, false, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := p.parseHeadersOnly(m, raw[n:]); err != nil {
			t.Fatal(err)
		}
	})
	if withHead >= withoutHead {
		t.Fatalf("ParseSIP: %.0f allocations, the start line converted apart: %.0f; want one less", withHead, withoutHead)
	}

	// A leading empty line, and a message without headers (head is the start line alone),
	// parse as before.
	for _, in := range []string{"\r\n\r\n" + string(raw), "OPTIONS sip:a@b SIP/2.0\r\n\r\n"} {
		msg, err := p.ParseSIP([]byte(in))
		if strings.HasPrefix(in, "\r\n") {
			// Not a stream: the leading empty line is no start line.
			if err == nil {
				t.Errorf("%q parsed", in)
			}
			continue
		}
		if err != nil || msg.(*Request).Method != OPTIONS {
			t.Errorf("%q: %v %v", in, msg, err)
		}
	}
}
