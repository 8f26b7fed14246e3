package sipsvc_test

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/sidecar-voip/sidecar/config"
)

// The answer to extension "who" names the template the call got: sub -> 486 (context
// internal); trunk, user-carol, anon, box -> 302 to trunk@, carol@, public@, callee@.
func whoAnswer(t *testing.T, e *env, from string, m msg) string {
	t.Helper()
	u := newRawUAC(t, from, e.udp)
	m.method, m.ruri, m.toUser, m.body = "INVITE", "sip:who@"+e.udp.String(), "who", offerSDP
	u.send(u.text(&m))
	res := u.final(2 * time.Second)
	u.send(u.ackNon2xx(m, res))
	if res.StatusCode == 302 && res.Contact() != nil {
		return "302 " + res.Contact().Address.User
	}
	return res.StartLine()[len("SIP/2.0 "):]
}

func fullChain(c *config.Config) {
	c.SIP.Identify = []string{"header", "ip", "username", "anonymous"}
	c.Identify.IP = []config.IPRule{{Prefix: netip.MustParsePrefix("127.0.0.1/32"), Template: "trunk"}}
	c.Identify.Username = "user-"
	c.Identify.Anonymous = "anon"
}

// Each identifier, in the configured order; the first that matches wins.
func TestIdentifiers(t *testing.T) {
	e := startEnv(t, fullChain)
	for _, tc := range []struct {
		name, from string
		m          msg
		want       string
	}{
		{"header wins over ip", "127.0.0.1", msg{headers: []string{"X-Caller-Template: sub"}}, "486 Busy Here"},
		{"callee header", "127.0.0.2", msg{headers: []string{"X-Callee-Template: box"}}, "302 callee"},
		{"ip", "127.0.0.1", msg{}, "302 trunk"},
		{"username", "127.0.0.2", msg{fromUser: "carol"}, "302 carol"},
		{"anonymous", "127.0.0.2", msg{fromUser: "nobody"}, "302 public"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := whoAnswer(t, e, tc.from, tc.m); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// The order is the configured one: anonymous first shadows the header.
func TestIdentifierOrder(t *testing.T) {
	e := startEnv(t, func(c *config.Config) {
		fullChain(c)
		c.SIP.Identify = []string{"anonymous", "header"}
	})
	if got := whoAnswer(t, e, "127.0.0.1", msg{headers: []string{"X-Caller-Template: sub"}}); got != "302 public" {
		t.Errorf("got %q, want anonymous's 302 public", got)
	}
}

// A trusted header naming a template that does not exist, or a malformed one, fails closed
// with a clear answer and a log line; it never falls through to anonymous.
func TestHeaderFailsClosed(t *testing.T) {
	e := startEnv(t, fullChain)
	for _, tc := range []struct {
		header, want string
	}{
		{"X-Caller-Template: ghost", "403 Unknown Template"},
		{"X-Callee-Template: ghost", "403 Unknown Template"},
		{"X-Caller-Template: na me", "400 Bad Template Header"},
	} {
		got := whoAnswer(t, e, "127.0.0.2", msg{fromUser: "nobody", headers: []string{tc.header}})
		if got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.header, got, tc.want)
		}
	}
	found := false
	for _, l := range strings.Split(e.log.String(), "\n") {
		found = found || (strings.Contains(l, "level=WARN") && strings.Contains(l, `msg="call ended"`) &&
			strings.Contains(l, "ghost") && strings.Contains(l, "status=403"))
	}
	if !found {
		t.Errorf("no warning names the unknown template:\n%s", e.log.String())
	}
}

// No identifier matching is answered [sip] no-match: 403 by default, or the configured code.
func TestNoMatch(t *testing.T) {
	for _, tc := range []struct {
		code int
		want string
	}{{0, "403 Forbidden"}, {404, "404 Not Found"}} {
		e := startEnv(t, func(c *config.Config) {
			if tc.code != 0 {
				c.SIP.NoMatchCode = tc.code
			}
		})
		if got := whoAnswer(t, e, "127.0.0.1", msg{}); got != tc.want {
			t.Errorf("no-match %d: got %q, want %q", tc.code, got, tc.want)
		}
	}
}
