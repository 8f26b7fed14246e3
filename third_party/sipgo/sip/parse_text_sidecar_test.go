package sip

import (
	"strings"
	"testing"
)

func sidecarTestInvite(extra int) []byte {
	var b strings.Builder
	b.WriteString("INVITE sip:bob@127.0.0.1:5060 SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP 127.0.0.2:5066;branch=z9hG4bK.1;rport\r\n" +
		"Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK.0, SIP/2.0/UDP 10.0.0.2;branch=z9hG4bK.00\r\n" +
		"From: \"Alice\" <sip:alice@127.0.0.2>;tag=abc\r\n" +
		"To:   <sip:bob@127.0.0.1>  \r\n" +
		"Call-ID: c1@127.0.0.2\r\n" +
		"CSeq: 1 INVITE\r\n" +
		"Contact: <sip:alice@127.0.0.2:5066>\r\n" +
		"Subject: folded\r\n  over two lines\r\n")
	for i := 0; i < extra; i++ {
		b.WriteString("X-Extra-Header: value  \r\n")
	}
	b.WriteString("Content-Type: application/sdp\r\nContent-Length: 4\r\n\r\nv=0\n")
	return []byte(b.String())
}

// TestParseHeaderTextSidecar (sidecar patch): headers parsed from the message's header
// section as one string are the headers ParseHeader makes from each line, and a header
// without a parser costs two allocations (its struct, its lower-case name for the parser
// lookup), not four (its name and value strings as well).
func TestParseHeaderTextSidecar(t *testing.T) {
	p := NewParser()
	data := sidecarTestInvite(1)
	msg, err := p.ParseSIP(data)
	if err != nil {
		t.Fatal(err)
	}
	var want []Header
	lines := strings.Split(strings.SplitN(string(data), "\r\n\r\n", 2)[0], "\r\n")[1:]
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		if strings.HasPrefix(line, "Subject") { // folded: as foldHeaderLine joins it
			line += " " + strings.TrimSpace(lines[i+1])
			i++
		}
		if want, err = p.headersParsers.ParseHeader(want, []byte(line)); err != nil {
			t.Fatal(err)
		}
	}
	got := msg.(*Request).Headers()
	if len(got) != len(want) {
		t.Fatalf("%d headers, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i].Name() != want[i].Name() || got[i].Value() != want[i].Value() {
			t.Errorf("header %d: %q: %q, want %q: %q", i, got[i].Name(), got[i].Value(), want[i].Name(), want[i].Value())
		}
	}
	one, five := sidecarTestInvite(1), sidecarTestInvite(5)
	a1 := testing.AllocsPerRun(50, func() { _, _ = p.ParseSIP(one) })
	a5 := testing.AllocsPerRun(50, func() { _, _ = p.ParseSIP(five) })
	t.Logf("allocations: %v with one extra header, %v with five", a1, a5)
	t.Logf("allocations: %v with one extra header, %v with five", a1, a5)
	if per := (a5 - a1) / 4; per > 2 {
		t.Errorf("%.1f allocations per header without a parser, want 2", per)
	}
}
