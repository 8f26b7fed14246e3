package sip

// sidecar patch tests: what a message and a server transaction allocate. A parsed message's
// header list is made for its header section's lines, a response's for the headers
// NewResponseFromRequest copies plus responseRoom; a non-INVITE server transaction has no
// Acks channel; isIPV6 rejects a host without parsing it.

import (
	"bytes"
	"net"
	"strings"
	"testing"
)

func TestParsedHeaderListSized(t *testing.T) {
	raw := strings.Join([]string{
		"INVITE sip:bob@127.0.0.1 SIP/2.0",
		"Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-1",
		"Via: SIP/2.0/UDP 127.0.0.2:5070;branch=z9hG4bK-2",
		"Max-Forwards: 70",
		"From: <sip:alice@example.com>;tag=a",
		"To: <sip:bob@example.com>",
		"Call-ID: sized-1",
		"CSeq: 1 INVITE",
		"Contact: <sip:alice@127.0.0.1:5070>",
		"Subject: sized",
		"Allow: INVITE, ACK, BYE",
		"X-One: 1",
		"X-Two: 2",
		"Content-Length: 0", "", ""}, "\r\n")
	msg, err := ParseMessage([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	req := msg.(*Request)
	if n := len(req.headerOrder); n != 13 {
		t.Fatalf("%d headers parsed, want 13", n)
	}
	// Upstream: room for 10, grown to 20 by the 11th.
	if c := cap(req.headerOrder); c != 13 {
		t.Errorf("header list capacity %d for 13 headers, want 13", c)
	}

	// A comma-separated line makes several headers: the list grows, nothing is lost.
	msg, err = ParseMessage([]byte(strings.Replace(raw,
		"Via: SIP/2.0/UDP 127.0.0.2:5070;branch=z9hG4bK-2",
		"Via: SIP/2.0/UDP 127.0.0.2:5070;branch=z9hG4bK-2, SIP/2.0/UDP 127.0.0.3:5070;branch=z9hG4bK-3", 1)))
	if err != nil {
		t.Fatal(err)
	}
	if vias := msg.(*Request).GetHeaders("Via"); len(vias) != 3 {
		t.Errorf("%d Via headers, want 3", len(vias))
	}
}

func TestResponseHeaderListSized(t *testing.T) {
	req, _, _ := testCreateInvite(t, "sip:127.0.0.99:5060", "UDP", "127.0.0.2:5060")
	res := NewSDPResponseFromRequest(req, []byte("v=0\r\n"))
	before := cap(res.headerOrder)
	// What sidecar's 200 OK gets besides: Allow, Supported, Server, Contact.
	res.AppendHeader(NewHeader("Allow", "INVITE, ACK, BYE"))
	res.AppendHeader(NewHeader("Supported", "timer"))
	res.AppendHeader(NewHeader("Server", "sidecar"))
	res.AppendHeader(&ContactHeader{Address: Uri{Host: "127.0.0.1"}})
	if after := cap(res.headerOrder); after != before {
		t.Errorf("a 200 OK's header list grew from %d to %d for its %d headers", before, after, len(res.headerOrder))
	}
	if n := len(res.headerOrder); n > before {
		t.Errorf("%d headers, room made for %d", n, before)
	}
}

func TestNonInviteServerTxHasNoAcks(t *testing.T) {
	req, _, _ := testCreateInvite(t, "sip:127.0.0.99:5060", "UDP", "127.0.0.2:5060")
	bye := NewRequest(BYE, req.Recipient)
	bye.AppendHeader(HeaderClone(req.Via()))
	bye.SetTransport("UDP") // as a received request has
	if tx := NewServerTx("bye", bye, nil, nil); tx.Acks() != nil || tx.acks != nil {
		t.Error("a BYE server transaction has an Acks channel")
	}
	if tx := NewServerTx("invite", req, nil, nil); tx.Acks() == nil || cap(tx.Acks()) != 1 || tx.Acks() != tx.Acks() {
		t.Error("an INVITE server transaction has no one-slot Acks channel")
	}
	// The transaction alone: its Acks and Done channels are made when asked for.
	for _, r := range []*Request{bye, req} {
		allocs := testing.AllocsPerRun(100, func() { NewServerTx("k", r, nil, nil) })
		if allocs > 1 {
			t.Errorf("NewServerTx for %s: %.0f allocations, want 1", r.Method, allocs)
		}
	}
}

func TestIsIPV6Sidecar(t *testing.T) {
	reference := func(host string) bool {
		ip := net.ParseIP(host)
		return ip != nil && ip.To4() == nil
	}
	for _, h := range []string{"127.0.0.1", "example.com", "::1", "fe80::1", "2001:db8::8:800:200c:417a",
		"::ffff:1.2.3.4", "1.2.3.4:5060", "a.b:c", "", ":", "[::1]", "fe80::1%eth0", "host:5060", "::"} {
		if got, want := isIPV6(h), reference(h); got != want {
			t.Errorf("isIPV6(%q) = %v, want %v", h, got, want)
		}
	}
	for _, h := range []string{"127.0.0.1", "sip.example.com"} {
		if allocs := testing.AllocsPerRun(100, func() { isIPV6(h) }); allocs != 0 {
			t.Errorf("isIPV6(%q): %.0f allocations, want 0 (rejected without net.ParseIP)", h, allocs)
		}
	}
}

// A message with a body is written without a copy of its body (writeBody).
func TestBodyWriteNoCopy(t *testing.T) {
	req, _, _ := testCreateInvite(t, "sip:127.0.0.99:5060", "UDP", "127.0.0.2:5060")
	body := []byte(strings.Repeat("a=sendrecv\r\n", 20))
	res := NewSDPResponseFromRequest(req, body)
	req.SetBody(body)
	var buf bytes.Buffer
	for _, tc := range []struct {
		name string
		m    Message
	}{{"request", req}, {"response", res}} {
		m := tc.m
		buf.Reset()
		m.StringWrite(&buf)
		if !strings.HasSuffix(buf.String(), "\r\n\r\n"+string(body)) {
			t.Fatalf("%s written without its body after the header section", tc.name)
		}
		var sb strings.Builder
		m.StringWrite(&sb)
		if sb.String() != buf.String() {
			t.Fatal("a strings.Builder and a bytes.Buffer got different text")
		}
		// Against the same message without its body: writing the body allocates nothing.
		withBody := testing.AllocsPerRun(50, func() { buf.Reset(); m.StringWrite(&buf) })
		setBody(m, nil)
		without := testing.AllocsPerRun(50, func() { buf.Reset(); m.StringWrite(&buf) })
		if withBody != without {
			t.Errorf("%s: %.0f allocations to write it with its body, %.0f without (the body copied)", tc.name, withBody, without)
		}
	}
}

func setBody(m Message, body []byte) {
	switch m := m.(type) {
	case *Request:
		m.body = body
	case *Response:
		m.body = body
	}
}

// A server transaction's Done channel, made on demand, is closed when it ends, and a closed
// one is returned once it has ended; OnTerminate and Ended agree.
func TestServerTxDoneOnDemandSidecar(t *testing.T) {
	req, _, _ := testCreateInvite(t, "sip:127.0.0.99:5060", "UDP", "127.0.0.2:5060")
	for _, askFirst := range []bool{true, false} {
		tx := NewServerTx("k", req, nil, nil)
		tx.log = DefaultLogger()
		var done <-chan struct{}
		if askFirst {
			done = tx.Done()
			if done != tx.Done() {
				t.Fatal("Done not the same channel twice")
			}
			select {
			case <-done:
				t.Fatal("Done closed before the transaction ended")
			default:
			}
		}
		if tx.Ended() {
			t.Fatal("Ended before the transaction ended")
		}
		tx.Terminate()
		if !askFirst {
			done = tx.Done()
		}
		select {
		case <-done:
		default:
			t.Fatalf("Done (asked first %v) not closed after Terminate", askFirst)
		}
		if !tx.Ended() || tx.OnTerminate(func(string, error) {}) {
			t.Fatal("an ended transaction not seen as ended")
		}
	}
}

// SetBody with the length the message's Content-Length already has allocates nothing.
func TestSetBodySameLengthNoAllocSidecar(t *testing.T) {
	res := NewResponse(200, "OK")
	body := []byte("v=0\r\n")
	res.SetBody(body)
	if h := res.ContentLength(); h == nil || *h != ContentLengthHeader(len(body)) {
		t.Fatalf("Content-Length %v", h)
	}
	if n := testing.AllocsPerRun(100, func() { res.SetBody(body) }); n > 0 {
		t.Fatalf("SetBody of the same length: %.0f allocations, want 0", n)
	}
	res.SetBody(nil)
	if h := res.ContentLength(); h == nil || *h != 0 || len(res.GetHeaders("Content-Length")) != 1 {
		t.Fatalf("Content-Length after SetBody(nil): %v", res.GetHeaders("Content-Length"))
	}
}
