package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// featureCall places n authenticated calls from alice to callee with scenario (which names the
// final response it requires) and an extra header line.
func featureCall(name, scenario, callee, extra string, n int) *sipp {
	return &sipp{name: name, scenario: scenario, ip: kamIP, calls: n, rate: 10,
		user: "alice", password: "alice-secret",
		keys: map[string]string{"user": "alice", "domain": domain, "callee": callee, "extra_header": extra}}
}

// routedTo counts the requests for ruser Kamailio logged as sent to the sidecar at addr.
func routedTo(t *testing.T, k *kamailio, ruser, addr string) int {
	t.Helper()
	b, err := os.ReadFile(k.log)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(b), fmt.Sprintf("INVITE sip:%s@%s to sidecar sip:%s\n", ruser, domain, addr))
}

// failovers counts the calls Kamailio retried on another sidecar.
func failovers(t *testing.T, k *kamailio) int {
	t.Helper()
	b, err := os.ReadFile(k.log)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(b), "sidecar failed on ")
}

// shippedDialplanHas reports whether the shipped dialplan defines extension exten.
func shippedDialplanHas(t *testing.T, exten string) bool {
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "templates", "extensions.conf"))
	return err == nil && strings.Contains(string(b), "exten => "+exten+",")
}

// TestSidecar runs calls through Kamailio to two real sidecars.
func TestSidecar(t *testing.T) {
	requireE2E(t)
	dir := newRunDir(t)
	k, sc := sidecarPool(t, dir, echoTemplates(t, dir))

	t.Run("an authenticated caller gets its template", func(t *testing.T) {
		// *486 is in the from-subscriber context only: a 486 shows the sidecar built alice's
		// profile from the X-Caller-Template Kamailio set.
		c := featureCall("alice-busy-test", "call_486.xml", "*486", "X-Test: plain", 1)
		if err := c.run(t, dir, k.target()); err != nil {
			t.Fatalf("alice calling *486 did not get the sidecar's 486: %v", err)
		}
	})

	t.Run("a spoofed caller template never reaches the sidecar", func(t *testing.T) {
		// A caller Kamailio does not authenticate claims alice's template. Had the header
		// reached the sidecar, *486 would answer 486 as above; the sidecar must treat the
		// caller as unknown instead.
		c := &sipp{name: "mallory-spoofs-alice", scenario: "call_anonymous_refused.xml", ip: kamIP, calls: 1,
			keys: map[string]string{"domain": domain, "callee": "*486",
				"extra_header": "X-Caller-Template: subscriber;user=alice"}}
		if err := c.run(t, dir, k.target()); err != nil {
			t.Fatalf("the spoofed caller was not refused as unknown: %v", err)
		}
	})

	t.Run("a dialplan 503 reaches the caller and leaves the pool intact", func(t *testing.T) {
		// *503 is Congestion(): a 503 without Retry-After is the dialplan's answer, not an
		// overloaded sidecar, so Kamailio relays it (as 500, RFC 3261 16.7) and neither fails
		// over nor marks the sidecar down.
		before := failovers(t, k)
		c := featureCall("alice-congestion", "call_congestion.xml", "*503", "X-Test: plain", 4)
		if err := c.run(t, dir, k.target()); err != nil {
			t.Fatalf("alice calling *503 did not get the sidecar's 503 (relayed as 500): %v", err)
		}
		if n := failovers(t, k) - before; n != 0 {
			t.Errorf("Kamailio failed over %d times on the dialplan's 503", n)
		}
		k.waitPool(t, map[string]string{sc[0].addr(): "AP", sc[1].addr(): "AP"}, 3*time.Second)
	})

	t.Run("echo test *43 echoes RTP", func(t *testing.T) {
		if err := echoCall(t, dir, k, "alice-echo", "alice", "alice-secret", "*43"); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("unanswered call lands in voicemail and the phone gets MWI", func(t *testing.T) {
		voicemailRoundTrip(t, dir, k, sc)
	})
}

// TestSidecarFailover checks that calls go on with no failed call when one of two real
// sidecars is stopped, or drains (answers OPTIONS with 503) on SIGTERM.
func TestSidecarFailover(t *testing.T) {
	requireE2E(t)

	t.Run("one sidecar stopped", func(t *testing.T) {
		dir := newRunDir(t)
		k, sc := sidecarPool(t, dir, "")
		sc[0].stop(t)
		c := featureCall("calls-with-one-stopped", "call_486.xml", "*486", "X-Test: plain", 10)
		if err := c.run(t, dir, k.target()); err != nil {
			t.Fatalf("a call failed with one sidecar stopped: %v", err)
		}
		if n := routedTo(t, k, "*486", sc[1].addr()); n != 10 {
			t.Errorf("the running sidecar got %d of 10 calls", n)
		}
		// The calls are hashed on their Call-IDs: the odds that none tried the stopped
		// sidecar first are 1 in 1024.
		if failovers(t, k) == 0 {
			t.Errorf("no call tried the stopped sidecar: failover not exercised")
		}
	})

	t.Run("one sidecar draining", func(t *testing.T) {
		dir := newRunDir(t)
		k, sc := sidecarPool(t, dir, "")
		// A call that lasts 3 s (*180 rings, then 480) keeps its sidecar draining, not gone.
		long := featureCall("long-call", "call_480.xml", "*180", "X-Test: plain", 1)
		long.background(t, dir, k.target())
		var busy, other *sidecar
		err := eventually(3*time.Second, func() error {
			for i, s := range sc {
				if routedTo(t, k, "*180", s.addr()) == 1 {
					busy, other = s, sc[1-i]
					return nil
				}
			}
			return fmt.Errorf("the long call reached no sidecar")
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := busy.signal(syscall.SIGTERM); err != nil {
			t.Fatalf("SIGTERM to the sidecar with the long call: %v", err)
		}
		k.waitPool(t, map[string]string{busy.addr(): "IP", other.addr(): "AP"}, 5*time.Second)
		if !busy.running() {
			t.Fatalf("the draining sidecar exited with a call in progress")
		}
		c := featureCall("calls-while-draining", "call_486.xml", "*486", "X-Test: plain", 6)
		if err := c.run(t, dir, k.target()); err != nil {
			t.Fatalf("a call failed while a sidecar drained: %v", err)
		}
		if n := routedTo(t, k, "*486", busy.addr()); n != 0 {
			t.Errorf("the draining sidecar got %d new calls", n)
		}
		if ok, err := long.proc.wait(10 * time.Second); !ok || err != nil {
			t.Errorf("the call in progress on the draining sidecar did not end normally: exited=%v err=%v", ok, err)
		}
	})
}
