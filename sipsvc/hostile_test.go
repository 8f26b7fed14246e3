package sipsvc_test

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/sidecar-voip/sidecar/config"
)

// An untrusted source that forges the headers a trusted peer would send (a Via, received and
// rport naming the trusted address, a template header) is refused on its socket address:
// nothing is identified, no call starts. The 403 follows the forged Via, away from the sender.
func TestForgedViaUntrusted(t *testing.T) {
	e := startEnv(t, func(c *config.Config) { c.SIP.Trusted = config.MustParseTrustList("127.0.0.1/32") })
	out := newRawUAC(t, "127.0.0.2", e.udp)
	forged := out.text(&msg{method: "INVITE", ruri: "sip:busy@" + e.udp.String(), toUser: "busy", body: offerSDP,
		headers: []string{"X-Caller-Template: sub", "Record-Route: <sip:127.0.0.1;lr>"}})
	forged = strings.Replace(forged, "Via: SIP/2.0/UDP "+out.local.String(),
		"Via: SIP/2.0/UDP 127.0.0.1:5060;received=127.0.0.1", 1)
	forged = strings.Replace(forged, ";rport\r\n", ";rport=5060\r\n", 1)
	if !strings.Contains(forged, "received=127.0.0.1") {
		t.Fatalf("forging the Via failed:\n%s", forged)
	}
	out.send(forged)
	waitFor(t, 2*time.Second, "the untrusted INVITE counted", func() bool { return e.srv.Stats().Untrusted == 1 })
	st := e.srv.Stats()
	if st.CallsTotal != 0 || len(e.media.Opened()) != 0 {
		t.Errorf("forged INVITE reached the call path: calls %d, media %v", st.CallsTotal, e.media.Opened())
	}
	if strings.Contains(e.log.String(), "caller_template") {
		t.Errorf("forged INVITE was identified:\n%s", e.log.String())
	}
}

// A trust entry with a port trusts that port only: the same host from another port, even with
// a Via naming the trusted port, gets 403 and is not identified.
func TestTrustedPortOnly(t *testing.T) {
	in := newRawUAC(t, "127.0.0.1", netip.AddrPort{})
	e := startEnv(t, func(c *config.Config) {
		c.SIP.Trusted = config.MustParseTrustList(in.local.String())
	})
	in.srv = e.udp
	other := newRawUAC(t, "127.0.0.1", e.udp)
	inv := func(u *rawUAC) string {
		text := u.text(&msg{method: "INVITE", ruri: "sip:busy@" + e.udp.String(), toUser: "busy", body: offerSDP,
			headers: []string{"X-Caller-Template: sub"}})
		return strings.Replace(text, "Via: SIP/2.0/UDP "+u.local.String(), "Via: SIP/2.0/UDP "+in.local.String(), 1)
	}
	other.send(strings.Replace(inv(other), ";rport\r\n", fmt.Sprintf(";rport=%d;received=127.0.0.1\r\n", other.local.Port()), 1))
	if res := other.final(2 * time.Second); res.StatusCode != 403 {
		t.Fatalf("INVITE from an untrusted port: %d, want 403", res.StatusCode)
	}
	if e.srv.Stats().CallsTotal != 0 {
		t.Fatal("INVITE from an untrusted port started a call")
	}
	in.send(inv(in))
	if res := in.final(2 * time.Second); res.StatusCode != 486 {
		t.Fatalf("INVITE from the trusted port: %d, want 486", res.StatusCode)
	}
}
