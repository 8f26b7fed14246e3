package main

import (
	"strings"
	"testing"
)

func TestPresenceAnswersPublish(t *testing.T) {
	var st presenceStats
	req := "PUBLISH sip:alice@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5;branch=z9hG4bK1\r\n" +
		"From: <sip:alice@h>;tag=a\r\nTo: <sip:alice@h>\r\nCall-ID: c1\r\nCSeq: 7 PUBLISH\r\n" +
		"Event: dialog\r\nExpires: 60\r\nContent-Length: 3\r\n\r\nxyz"
	out, ok := st.answer([]byte(req), nil)
	if !ok {
		t.Fatal("no answer to a PUBLISH")
	}
	for _, want := range []string{"SIP/2.0 200 OK\r\n", "Via: SIP/2.0/UDP 127.0.0.1:5;branch=z9hG4bK1\r\n",
		"To: <sip:alice@h>;tag=ps\r\n", "Call-ID: c1\r\n", "CSeq: 7 PUBLISH\r\n", "SIP-ETag: e1\r\n",
		"Expires: 60\r\n", "Content-Length: 0\r\n\r\n"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("answer lacks %q:\n%s", want, out)
		}
	}
	mod := strings.Replace(req, "Event: dialog", "SIP-If-Match: e1", 1)
	if _, ok := st.answer([]byte(mod), nil); !ok {
		t.Fatal("no answer to a PUBLISH with SIP-If-Match")
	}
	if _, ok := st.answer([]byte("SIP/2.0 200 OK\r\nVia: x\r\nTo: y\r\n\r\n"), nil); ok {
		t.Error("answered a response")
	}
	if got := st.String(); got != "publish=1 modify=1 other=0" {
		t.Errorf("counters %q", got)
	}
}
