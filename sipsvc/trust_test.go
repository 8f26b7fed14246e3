package sipsvc_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/sidecar-voip/sidecar/config"
)

// A request from a source outside [sip] trusted gets 403 before any identification,
// template or dialplan work, never a digest challenge, and is counted.
func TestUntrustedSourceRejected(t *testing.T) {
	e := startEnv(t, func(c *config.Config) { c.SIP.Trusted = config.MustParseTrustList("127.0.0.1/32") })
	out := newRawUAC(t, "127.0.0.2", e.udp)
	in := newRawUAC(t, "127.0.0.1", e.udp)

	for _, m := range []msg{
		{method: "OPTIONS", ruri: "sip:" + e.udp.String()},
		{method: "INVITE", ruri: "sip:busy@" + e.udp.String(), toUser: "busy", body: offerSDP,
			headers: []string{"X-Caller-Template: sub"}},
		{method: "BYE", ruri: "sip:busy@" + e.udp.String(), toUser: "busy", toTag: "x"},
	} {
		out.send(out.text(&m))
		res := out.final(2 * time.Second)
		if res.StatusCode != 403 {
			t.Errorf("untrusted %s: got %d %s, want 403", m.method, res.StatusCode, res.Reason)
		}
		if res.GetHeader("WWW-Authenticate") != nil || res.GetHeader("Proxy-Authenticate") != nil {
			t.Errorf("untrusted %s: answer carries a digest challenge", m.method)
		}
	}
	st := e.srv.Stats()
	if st.Untrusted != 3 {
		t.Errorf("Stats.Untrusted = %d, want 3", st.Untrusted)
	}
	if st.CallsTotal != 0 || len(e.media.Opened()) != 0 {
		t.Errorf("untrusted INVITE reached the call path: calls %d, media %v", st.CallsTotal, e.media.Opened())
	}
	if strings.Contains(e.log.String(), "caller_template") {
		t.Errorf("untrusted INVITE was identified:\n%s", e.log.String())
	}

	// The same request from the trusted address is served.
	in.send(in.text(&msg{method: "OPTIONS", ruri: "sip:" + e.udp.String()}))
	if res := in.final(2 * time.Second); res.StatusCode != 200 {
		t.Errorf("trusted OPTIONS: got %d, want 200", res.StatusCode)
	}
}

// With untrusted = drop nothing at all is sent back, and the request is still counted.
func TestUntrustedSourceDropped(t *testing.T) {
	e := startEnv(t, func(c *config.Config) {
		c.SIP.Trusted = config.MustParseTrustList("127.0.0.1/32")
		c.SIP.Untrusted = "drop"
	})
	out := newRawUAC(t, "127.0.0.2", e.udp)
	out.send(out.text(&msg{method: "INVITE", ruri: "sip:busy@" + e.udp.String(), toUser: "busy", body: offerSDP}))
	out.send(out.text(&msg{method: "OPTIONS", ruri: "sip:" + e.udp.String()}))
	out.silent(700 * time.Millisecond)
	waitFor(t, time.Second, "2 untrusted requests counted", func() bool { return e.srv.Stats().Untrusted == 2 })
}

// The same with a real sipgo UAC sending from 127.0.0.2: OPTIONS and INVITE get 403.
func TestUntrustedSipgoUAC(t *testing.T) {
	e := startEnv(t, func(c *config.Config) { c.SIP.Trusted = config.MustParseTrustList("127.0.0.1/32") })
	ua, err := sipgo.NewUA(sipgo.WithUserAgentHostname("127.0.0.2"))
	if err != nil {
		t.Fatal(err)
	}
	defer ua.Close()
	client, err := sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.2"), sipgo.WithClientConnectionAddr("127.0.0.2:0"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	target := sip.Uri{Scheme: "sip", Host: "127.0.0.1", Port: int(e.udp.Port())}
	res, err := client.Do(ctx, sip.NewRequest(sip.OPTIONS, target))
	if err != nil {
		t.Fatalf("OPTIONS: %v", err)
	}
	if res.StatusCode != 403 {
		t.Errorf("OPTIONS from 127.0.0.2: got %d, want 403", res.StatusCode)
	}
	dialogs := sipgo.NewDialogClientCache(client, sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "mallory", Host: "127.0.0.2"}})
	target.User = "busy"
	d, err := dialogs.Invite(ctx, target, []byte(offerSDP), sip.NewHeader("Content-Type", "application/sdp"),
		sip.NewHeader("X-Caller-Template", "sub"))
	if err != nil {
		t.Fatalf("INVITE: %v", err)
	}
	if got := statusOfErr(d.WaitAnswer(ctx, sipgo.AnswerOptions{})); got != 403 {
		t.Errorf("INVITE from 127.0.0.2: got %d, want 403", got)
	}
	// OPTIONS and INVITE got 403; the client's ACK of the 403 is discarded at the socket
	// and counted too.
	waitFor(t, 2*time.Second, "3 untrusted messages counted", func() bool { return e.srv.Stats().Untrusted == 3 })
	if st := e.srv.Stats(); st.CallsTotal != 0 {
		t.Errorf("stats: calls %d, want 0", st.CallsTotal)
	}
}
