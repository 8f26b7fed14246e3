package sipsvc_test

import (
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// Require naming any option tag gets 420 Bad Extension with Unsupported listing them
// (RFC 3261 8.2.2.3), before a call slot is taken; Proxy-Require is not ours to check.
func TestRequireRefused(t *testing.T) {
	e := startEnv(t, nil)
	u := newRawUAC(t, "127.0.0.1", e.udp)
	for _, tc := range []struct {
		name            string
		headers         []string
		want            int
		wantUnsupported string
	}{
		{"100rel", []string{"Require: 100rel"}, 420, "100rel"},
		{"several", []string{"Require: 100rel, timer", "Require: foo"}, 420, "100rel, timer, foo"},
		{"proxy-require", []string{"Proxy-Require: foo"}, 486, ""},
	} {
		inv := msg{method: "INVITE", ruri: "sip:busy@" + e.udp.String(), toUser: "busy", body: offerSDP,
			headers: append([]string{"X-Caller-Template: sub"}, tc.headers...)}
		u.send(u.text(&inv))
		res := u.final(2 * time.Second)
		u.send(u.ackNon2xx(inv, res))
		if res.StatusCode != tc.want {
			t.Errorf("%s: got %d, want %d", tc.name, res.StatusCode, tc.want)
		}
		got := ""
		if h := res.GetHeader("Unsupported"); h != nil {
			got = h.Value()
		}
		if got != tc.wantUnsupported {
			t.Errorf("%s: Unsupported %q, want %q", tc.name, got, tc.wantUnsupported)
		}
	}
	if n := e.srv.Stats().CallsTotal; n != 1 {
		t.Errorf("CallsTotal = %d, want 1: a refused Require must not take a call slot", n)
	}

	// In a dialog: BYE, INFO, OPTIONS and re-INVITE with Require get 420; the call goes on.
	inv, ok := answerCall(t, e, u)
	waitFor(t, 2*time.Second, "answered", func() bool { return e.srv.Stats().Answered == 1 })
	for i, method := range []string{"BYE", "INFO", "OPTIONS", "INVITE"} {
		r := inDialog(inv, tagOf(ok), method, 2+i, "")
		r.headers = []string{"Require: timer"}
		u.send(u.text(&r))
		res := u.final(2 * time.Second)
		if res.StatusCode != 420 {
			t.Errorf("in-dialog %s with Require: got %d, want 420", method, res.StatusCode)
		}
		if method == "INVITE" {
			u.send(u.ackNon2xx(r, res))
		}
	}
	if n := e.srv.Stats().CallsActive; n != 1 {
		t.Fatalf("CallsActive = %d, want the call to go on", n)
	}
	hangUp(t, u, inv, tagOf(ok), 10)
}

// INFO in a dialog: keepalive 200; Info-Package -> 469 with an empty Recv-Info; a body
// type we do not read -> 415 with Accept; DTMF -> 200 (400 when malformed); a stale CSeq ->
// 500.
func TestInfoAnswers(t *testing.T) {
	e := startEnv(t, nil)
	u := newRawUAC(t, "127.0.0.1", e.udp)
	inv, ok := answerCall(t, e, u)
	waitFor(t, 2*time.Second, "answered", func() bool { return e.srv.Stats().Answered == 1 })
	cseq := 10
	for _, tc := range []struct {
		name, ct, body string
		headers        []string
		cseq           int // 0: the next one
		want           int
		wantHeader     string // a header the answer must carry
		wantValue      string
	}{
		{name: "keepalive", want: 200},
		{name: "package", ct: "application/foo", body: "x", headers: []string{"Info-Package: foo"}, want: 469,
			wantHeader: "Recv-Info", wantValue: ""},
		{name: "unknown body", ct: "text/plain", body: "hello", want: 415, wantHeader: "Accept",
			wantValue: "application/dtmf-relay, application/dtmf, application/media_control+xml"},
		{name: "dtmf-relay", ct: "application/dtmf-relay", body: "Signal=5\r\nDuration=160\r\n", want: 200},
		{name: "dtmf", ct: "application/dtmf", body: "7", want: 200},
		{name: "picture update", ct: "application/media_control+xml", body: "<media_control/>", want: 200},
		{name: "malformed dtmf", ct: "application/dtmf-relay", body: "Signal=\r\n", want: 400},
		{name: "stale CSeq", cseq: 3, want: 500},
	} {
		c := tc.cseq
		if c == 0 {
			cseq++
			c = cseq
		}
		r := inDialog(inv, tagOf(ok), "INFO", c, tc.body)
		r.contentType, r.headers = tc.ct, tc.headers
		u.send(u.text(&r))
		res := u.final(2 * time.Second)
		if res.StatusCode != tc.want {
			t.Errorf("%s: got %d, want %d", tc.name, res.StatusCode, tc.want)
			continue
		}
		if tc.wantHeader != "" {
			h := res.GetHeader(tc.wantHeader)
			if h == nil || h.Value() != tc.wantValue {
				t.Errorf("%s: %s = %v, want %q", tc.name, tc.wantHeader, h, tc.wantValue)
			}
		}
	}
	hangUp(t, u, inv, tagOf(ok), cseq+1)
}

// multipartBody is a carrier's INVITE body: SDP and ISUP.
func multipartBody(sdp string) string {
	b := "--unique-boundary-1\r\nContent-Type: application/sdp\r\n\r\n" + sdp +
		"--unique-boundary-1\r\nContent-Type: application/ISUP;version=itu-t92+\r\nContent-Disposition: signal;handling=optional\r\n\r\n" +
		"\x01\x00\x49\x00\x00\x03\x02\x00\x07\x04\x10\x00\x33\x63\x21\x43\x00\x00\x03\r\n--unique-boundary-1--\r\n"
	if sdp == "" {
		b = strings.Replace(b, "--unique-boundary-1\r\nContent-Type: application/sdp\r\n\r\n", "", 1)
	}
	return b
}

// The INVITE body: SDP, or the SDP part of a multipart body; anything else gets 415 with
// Accept: application/sdp, also on a re-INVITE.
func TestInviteBody(t *testing.T) {
	e := startEnv(t, nil)
	u := newRawUAC(t, "127.0.0.1", e.udp)
	const mp = "multipart/mixed;boundary=unique-boundary-1"
	for _, tc := range []struct {
		name, ct, body string
		want           int
	}{
		{"text", "text/plain", "hello", 415},
		{"multipart without SDP", mp, multipartBody(""), 415},
		{"multipart SDP+ISUP", mp, multipartBody(offerSDP), 200},
	} {
		inv := msg{method: "INVITE", ruri: "sip:answer@" + e.udp.String(), toUser: "answer", body: tc.body,
			contentType: tc.ct, headers: []string{"X-Caller-Template: sub"}}
		u.send(u.text(&inv))
		res := u.final(2 * time.Second)
		if res.StatusCode != tc.want {
			t.Fatalf("%s: got %d, want %d", tc.name, res.StatusCode, tc.want)
		}
		if res.StatusCode == 415 {
			if h := res.GetHeader("Accept"); h == nil || h.Value() != "application/sdp" {
				t.Errorf("%s: Accept = %v, want application/sdp", tc.name, h)
			}
			u.send(u.ackNon2xx(inv, res))
			continue
		}
		u.send(u.ackFor(inv, ok200(t, res)))
		if got := string(e.media.Session(inv.callID).Offer()); got != offerSDP {
			t.Errorf("%s: media opened with %q, want the SDP part", tc.name, got)
		}
		r := inDialog(inv, tagOf(res), "INVITE", 2, "hello")
		r.contentType = "text/plain"
		u.send(u.text(&r))
		if rr := u.final(2 * time.Second); rr.StatusCode != 415 {
			t.Errorf("re-INVITE with a text body: got %d, want 415", rr.StatusCode)
		} else {
			u.send(u.ackNon2xx(r, rr))
		}
		hangUp(t, u, inv, tagOf(res), 3)
	}
	if n := e.srv.Stats().CallsTotal; n != 1 {
		t.Errorf("CallsTotal = %d, want 1: a 415 must not take a call slot", n)
	}
}

func ok200(t *testing.T, res *sip.Response) *sip.Response {
	t.Helper()
	if res.StatusCode != 200 {
		t.Fatalf("got %d, want 200", res.StatusCode)
	}
	return res
}

// The 2xx to an INVITE and to a re-INVITE carry Allow and Supported (RFC 3261 13.3.1.4).
func TestAnswerAllowSupported(t *testing.T) {
	e := startEnv(t, nil)
	u := newRawUAC(t, "127.0.0.1", e.udp)
	inv, ok := answerCall(t, e, u)
	r := inDialog(inv, tagOf(ok), "INVITE", 2, offerSDP)
	u.send(u.text(&r))
	re := u.final(2 * time.Second)
	a := ackOf(r, "")
	u.send(u.text(&a))
	for name, res := range map[string]*sip.Response{"INVITE": ok, "re-INVITE": re} {
		if h := res.GetHeader("Allow"); h == nil || !strings.Contains(h.Value(), "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO") {
			t.Errorf("200 to %s: Allow = %v", name, h)
		}
		if h := res.GetHeader("Supported"); h == nil || h.Value() != "" {
			t.Errorf("200 to %s: Supported = %v, want present and empty", name, h)
		}
	}
	hangUp(t, u, inv, tagOf(ok), 3)
}
