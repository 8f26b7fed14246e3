package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// invitesAt waits until the stand-ins together have logged n INVITEs for ruser (the R-URI
// user) and returns them.
func invitesAt(t *testing.T, dir string, sc [2]*sipp, ruser string, n int) []string {
	t.Helper()
	var got []string
	err := eventually(5*time.Second, func() error {
		got = nil
		for _, s := range sc {
			for _, m := range received(dir, s.name, "INVITE") {
				if strings.HasPrefix(m, "INVITE sip:"+ruser+"@") {
					got = append(got, m)
				}
			}
		}
		if len(got) < n {
			return fmt.Errorf("%d INVITEs for %s reached the pool, want %d", len(got), ruser, n)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// wantHeaders compares the template headers of msg with want (nil: header absent).
func wantHeaders(t *testing.T, msg string, want map[string][]string) {
	t.Helper()
	for name, w := range want {
		got := headerValues(msg, name)
		if strings.Join(got, "|") != strings.Join(w, "|") {
			t.Errorf("%s: got %q, want %q in:\n%s", name, got, w, msg)
		}
	}
}

// none is the expectation for an absent header.
var none []string

// TestHeaderContract checks what Kamailio tells the pool about a call (docs/deployment.md):
// the template headers come from Kamailio's subscriber data only, whatever the phone sent.
func TestHeaderContract(t *testing.T) {
	requireE2E(t)
	dir := newRunDir(t)
	sc, k := standinPoolWant(t, dir, [2]string{"standin_sidecar.xml", "standin_sidecar.xml"}, [2]string{"AP", "AP"})

	call := func(name, user, password, callee, extra string) error {
		c := &sipp{name: name, scenario: "call.xml", ip: kamIP, calls: 1, holdMs: 100,
			user: user, password: password,
			keys: map[string]string{"user": user, "domain": domain, "callee": callee,
				"rtp_ip": kamIP, "rtp_port": "9", "extra_header": extra}}
		return c.run(t, dir, k.target())
	}

	t.Run("spoofed template headers never reach the sidecar", func(t *testing.T) {
		// Every header a template reads, in two spellings; none may survive.
		spoof := "X-Caller-Template: admin;user=root\n" +
			"x-callee-template: admin;user=root\n" +
			"X-MailBoxId: 9999\n" +
			"X-MAILBOXPIN: 0000\n" +
			"Diversion: <sip:9999@evil.test>;reason=user-busy"
		if err := call("alice-echo-spoof", "alice", "alice-secret", "*43", spoof); err != nil {
			t.Fatalf("call *43: %v", err)
		}
		inv := invitesAt(t, dir, sc, "*43", 1)[0]
		if strings.Contains(inv, "admin") || strings.Contains(inv, "9999") || strings.Contains(inv, "0000") {
			t.Errorf("a spoofed value reached the sidecar:\n%s", inv)
		}
		wantHeaders(t, inv, map[string][]string{
			"X-Caller-Template": {"subscriber;user=alice"}, // default template: alice's column is empty
			"X-Callee-Template": none,                      // *43 is not a subscriber
			"X-MailBoxId":       {"alice"},                 // mailbox column empty: the username
			"X-MailBoxPin":      none,
			"Diversion":         none,
		})
	})

	t.Run("voicemail main carries the caller's own mailbox", func(t *testing.T) {
		if err := call("bob-voicemail-main", "bob", "bob-secret", "*97", "X-Test: plain"); err != nil {
			t.Fatalf("call *97: %v", err)
		}
		inv := invitesAt(t, dir, sc, "*97", 1)[0]
		wantHeaders(t, inv, map[string][]string{
			"X-Caller-Template": {"subscriber;user=bob"},
			"X-Callee-Template": none,
			"X-MailBoxId":       {"2000"},
			"X-MailBoxPin":      {"4321"},
		})
	})

	t.Run("unregistered callee goes to voicemail", func(t *testing.T) {
		// A Diversion from the phone is removed: the one the sidecar sees is Kamailio's.
		if err := call("alice-to-bob-unregistered", "alice", "alice-secret", "bob", "Diversion: <sip:mallory@evil.test>;reason=unconditional"); err != nil {
			t.Fatalf("call bob: %v", err)
		}
		inv := invitesAt(t, dir, sc, "bob", 1)[0]
		wantHeaders(t, inv, map[string][]string{
			"X-Caller-Template": {"subscriber;user=alice"},
			"X-Callee-Template": {"subscriber;user=bob"},
			"X-MailBoxId":       {"2000"},
			"X-MailBoxPin":      none, // a deposit does not need the PIN
			"Diversion":         {"<sip:bob@" + domain + ">;reason=unavailable;counter=1"},
		})
	})

	t.Run("MWI subscription goes to the mailbox's sidecar", func(t *testing.T) {
		sub := &sipp{name: "bob-subscribes", scenario: "subscribe_mwi.xml", ip: kamIP, calls: 1,
			user: "bob", password: "bob-secret", keys: map[string]string{"user": "bob", "domain": domain}}
		if err := sub.run(t, dir, k.target()); err != nil {
			t.Fatalf("SUBSCRIBE message-summary: %v", err)
		}
		var subs []string
		for _, s := range sc {
			subs = append(subs, received(dir, s.name, "SUBSCRIBE")...)
		}
		if len(subs) != 1 {
			t.Fatalf("the pool got %d SUBSCRIBEs, want 1", len(subs))
		}
		wantHeaders(t, subs[0], map[string][]string{
			"X-Caller-Template": {"subscriber;user=bob"},
			"X-Callee-Template": {"subscriber;user=bob"},
			"X-MailBoxId":       {"2000"}, // not the 9999 the phone sent
			"X-MailBoxPin":      none,
		})
	})

	t.Run("nobody calls under another subscriber's name", func(t *testing.T) {
		// From bob, with alice's credentials.
		c := &sipp{name: "alice-as-bob", scenario: "call_impersonation_refused.xml", ip: kamIP, calls: 1,
			user: "alice", password: "alice-secret",
			keys: map[string]string{"user": "bob", "domain": domain, "callee": "*43", "extra_header": "X-Test: plain"}}
		if err := c.run(t, dir, k.target()); err != nil {
			t.Fatalf("a call from bob with alice's credentials was not refused: %v", err)
		}
		if n := len(invitesAt(t, dir, sc, "*43", 0)); n != 1 { // the spoofing test's call only
			t.Errorf("%d INVITEs for *43 reached the pool, want 1", n)
		}
	})

	t.Run("unknown callee is refused", func(t *testing.T) {
		if err := call("alice-to-nobody", "alice", "alice-secret", "nobody", "X-Test: plain"); err == nil {
			t.Fatal("a call to a user who is not a subscriber was answered")
		}
		if n := len(invitesAt(t, dir, sc, "nobody", 0)); n != 0 {
			t.Errorf("%d INVITEs for a non-subscriber reached the pool", n)
		}
	})

	// busy and no answer: bob's phone refuses or rings, then the call is diverted. Both phones
	// use the same contact, so the second registration replaces the first.
	phonePort := freePort(t, kamIP)
	for _, tc := range []struct {
		phone, reason string
		n             int // INVITEs for bob the pool has seen once this case is done
	}{
		{"phone_busy.xml", "user-busy", 2},
		{"phone_noanswer.xml", "no-answer", 3},
	} {
		t.Run("diverted on "+tc.reason, func(t *testing.T) {
			phone := &sipp{name: "bob-" + tc.reason, scenario: tc.phone, ip: kamIP, port: phonePort}
			defer phone.start(t, dir).stop(t)
			if err := register(t, dir, k, "bob", "bob-secret", phone.port); err != nil {
				t.Fatalf("register bob: %v", err)
			}
			start := time.Now()
			if err := call("alice-to-bob-"+tc.reason, "alice", "alice-secret", "bob", "X-Caller-Template: admin;user=root"); err != nil {
				t.Fatalf("call bob: %v", err)
			}
			// Kamailio counts timers in ticks of 1/16 s from the last tick, so a timer may expire
			// up to one tick before its time as measured here.
			if tc.reason == "no-answer" && time.Since(start) < noAnswerMs*time.Millisecond-kamailioTick {
				t.Errorf("diverted after %v, before NOANSWER_TIMEOUT (%d ms)", time.Since(start), noAnswerMs)
			}
			invs := invitesAt(t, dir, sc, "bob", tc.n)
			inv := invs[len(invs)-1]
			for _, i := range invs {
				if strings.Contains(i, "reason="+tc.reason) {
					inv = i
				}
			}
			wantHeaders(t, inv, map[string][]string{
				"X-Caller-Template": {"subscriber;user=alice"},
				"X-Callee-Template": {"subscriber;user=bob"},
				"X-MailBoxId":       {"2000"},
				"Diversion":         {"<sip:bob@" + domain + ">;reason=" + tc.reason + ";counter=1"},
			})
			// The phone saw the call first, without any template header.
			ph := received(dir, phone.name, "INVITE")
			if len(ph) != 1 {
				t.Fatalf("bob's phone got %d INVITEs, want 1", len(ph))
			}
			if strings.Contains(strings.ToLower(ph[0]), "-template") || strings.Contains(ph[0], "X-MailBox") {
				t.Errorf("a template header reached the phone:\n%s", ph[0])
			}
			if tc.reason == "no-answer" && len(received(dir, phone.name, "CANCEL")) != 1 {
				t.Errorf("the ringing phone was not cancelled when the call went to voicemail")
			}
		})
	}
}
