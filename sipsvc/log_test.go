package sipsvc_test

import (
	"strings"
	"testing"
	"time"
)

// Each call logs one line with its call id, source, identifier, templates, context and
// dialplan trace; header values (a PIN) never reach the log, not even from a message sipgo
// cannot parse.
func TestCallLogLine(t *testing.T) {
	e := startEnv(t, nil)
	u := newRawUAC(t, "127.0.0.1", e.udp)
	const pin = "X-MailBoxPin: 918273"
	inv := msg{method: "INVITE", ruri: "sip:busy@" + e.udp.String(), toUser: "busy", body: offerSDP,
		headers: []string{"X-Caller-Template: sub", pin}}
	u.send(u.text(&inv))
	res := u.final(2 * time.Second)
	if res.StatusCode != 486 {
		t.Fatalf("got %d, want 486", res.StatusCode)
	}
	u.send(u.ackNon2xx(inv, res))
	// The same secret inside a datagram sipgo fails to parse.
	u.send("INVITE sip:x SIP/2.0\r\nCSeq: nonsense\r\n" + pin + "\r\n\r\n")
	u.send(u.text(&msg{method: "OPTIONS", ruri: "sip:" + e.udp.String()}))
	u.final(2 * time.Second)

	var line string
	waitFor(t, 2*time.Second, "call end log line", func() bool {
		for _, l := range strings.Split(e.log.String(), "\n") {
			if strings.Contains(l, `msg="call ended"`) {
				line = l
				return true
			}
		}
		return false
	})
	for _, want := range []string{
		"call_id=" + inv.callID, "source=" + u.local.String(), "identifier=header",
		"caller_template=sub", "context=internal", "exten=busy", "status=486", "dialplan=",
	} {
		if !strings.Contains(line, want) {
			t.Errorf("call log line lacks %q:\n%s", want, line)
		}
	}
	if strings.Contains(e.log.String(), "918273") {
		t.Errorf("the PIN reached the log:\n%s", e.log.String())
	}
}
