package sipsvc

import "testing"

func TestFrameFault(t *testing.T) {
	inv := "INVITE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nContent-Length: 4\r\n\r\nv=0\n"
	for _, c := range []struct {
		name, b string
		ok      bool
	}{
		{"request", inv, true},
		{"response", "SIP/2.0 200 OK\r\nl: 0\r\n\r\n", true},
		{"keep-alive", "\r\n\r\n", true},
		{"other version (505 upstream)", "OPTIONS sip:a SIP/7.0\r\n\r\n", true},
		{"random bytes", "\x8f\x01garbage\x00\r\n\r\n", false},
		{"no CRLF", "INVITE sip:bob@example.com SIP/2.0", false},
		{"truncated in the headers", inv[:50], false},
		{"truncated in the body", inv[:len(inv)-2], false},
		{"compact l longer than the body", "SIP/2.0 200 OK\r\nl : 10\r\n\r\nabc", false},
		{"no version", "INVITE sip:bob@example.com\r\n\r\n", false},
	} {
		if got := frameFault([]byte(c.b)); (got == "") != c.ok {
			t.Errorf("%s: frameFault = %q, want ok %v", c.name, got, c.ok)
		}
	}
}
