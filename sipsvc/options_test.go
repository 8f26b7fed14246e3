package sipsvc_test

import (
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// Kamailio's dispatcher probes "OPTIONS sip:ip:port": 200 with Allow and Accept.
func TestOptionsKeepalive(t *testing.T) {
	e := startEnv(t, nil)
	u := newRawUAC(t, "127.0.0.1", e.udp)
	for _, ruri := range []string{"sip:" + e.udp.String(), "sip:anything@example.invalid"} {
		u.send(u.text(&msg{method: "OPTIONS", ruri: ruri}))
		res := u.final(2 * time.Second)
		if res.StatusCode != 200 {
			t.Fatalf("OPTIONS %s: got %d, want 200", ruri, res.StatusCode)
		}
		checkAllowAccept(t, res)
	}
	if got := e.srv.Stats().Options; got != 2 {
		t.Errorf("Stats.Options = %d, want 2", got)
	}
}

func checkAllowAccept(t *testing.T, res *sip.Response) {
	t.Helper()
	allow := res.GetHeader("Allow")
	if allow == nil {
		t.Fatal("no Allow header")
	}
	for _, m := range []string{"INVITE", "ACK", "CANCEL", "BYE", "OPTIONS"} {
		if !strings.Contains(allow.Value(), m) {
			t.Errorf("Allow %q lacks %s", allow.Value(), m)
		}
	}
	if a := res.GetHeader("Accept"); a == nil || a.Value() != "application/sdp" {
		t.Errorf("Accept = %v, want application/sdp", a)
	}
}

// A datagram sipgo cannot parse is dropped; the process lives and answers the next one.
func TestGarbageDoesNotKillService(t *testing.T) {
	e := startEnv(t, nil)
	u := newRawUAC(t, "127.0.0.1", e.udp)
	for _, junk := range []string{
		"\x00\x01\x02garbage",
		"INVITE\r\n\r\n",
		"SIP/2.0 200 OK\r\nVia: nonsense\r\n\r\n",
		"OPTIONS sip:x SIP/2.0\r\nCSeq: banana\r\n\r\n",
		"INVITE sip:a@b SIP/2.0\r\nContent-Length: 99999\r\n\r\nv=0",
		strings.Repeat("A", 60000),
	} {
		u.send(junk)
	}
	u.send(u.text(&msg{method: "OPTIONS", ruri: "sip:" + e.udp.String()}))
	if res := u.final(2 * time.Second); res.StatusCode != 200 {
		t.Fatalf("OPTIONS after junk: got %d, want 200", res.StatusCode)
	}
}

// Methods the service does not handle get 405 with Allow; in-dialog requests for no dialog
// get 481.
func TestOtherMethods(t *testing.T) {
	e := startEnv(t, nil)
	u := newRawUAC(t, "127.0.0.1", e.udp)
	for _, tc := range []struct {
		m    msg
		want int
	}{
		{msg{method: "MESSAGE", ruri: "sip:bob@" + e.udp.String(), toUser: "bob"}, 405},
		{msg{method: "SUBSCRIBE", ruri: "sip:bob@" + e.udp.String(), toUser: "bob", headers: []string{"Event: message-summary"}}, 405},
		{msg{method: "BYE", ruri: "sip:bob@" + e.udp.String(), toUser: "bob", toTag: "nope"}, 481},
		{msg{method: "INFO", ruri: "sip:bob@" + e.udp.String(), toUser: "bob", toTag: "nope"}, 481},
		{msg{method: "OPTIONS", ruri: "sip:bob@" + e.udp.String(), toUser: "bob", toTag: "nope"}, 481},
		{msg{method: "INVITE", ruri: "sip:bob@" + e.udp.String(), toUser: "bob", toTag: "nope", body: offerSDP}, 481},
		{msg{method: "CANCEL", ruri: "sip:bob@" + e.udp.String(), toUser: "bob"}, 481},
	} {
		u.send(u.text(&tc.m))
		res := u.final(2 * time.Second)
		if res.StatusCode != tc.want {
			t.Errorf("%s: got %d %s, want %d", tc.m.method, res.StatusCode, res.Reason, tc.want)
		}
		if tc.want == 405 && res.GetHeader("Allow") == nil {
			t.Errorf("%s: 405 without Allow", tc.m.method)
		}
	}
}
