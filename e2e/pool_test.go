package e2e

import (
	"fmt"
	"testing"
	"time"
)

// echoCalls places n authenticated calls from alice to *43 and returns SIPp's verdict (nil when
// every call was answered).
func echoCalls(t *testing.T, dir string, k *kamailio, name string, n int) error {
	c := &sipp{name: name, scenario: "call.xml", ip: kamIP, calls: n, holdMs: 100, rate: 10,
		user: "alice", password: "alice-secret",
		keys: map[string]string{"user": "alice", "domain": domain, "callee": "*43",
			"rtp_ip": kamIP, "rtp_port": "9", "extra_header": "X-Test: plain"}}
	return c.run(t, dir, k.target())
}

func invitesTo(dir string, s *sipp) int { return len(received(dir, s.name, "INVITE")) }

// TestPool checks the sidecar pool with stand-ins: a draining sidecar (OPTIONS 503) gets no
// calls, a sidecar answering INVITE with 503 or not answering at all is failed over with no
// failed call, and a mailbox's calls all land on one sidecar.
func TestPool(t *testing.T) {
	requireE2E(t)

	t.Run("draining sidecar gets no calls", func(t *testing.T) {
		dir := newRunDir(t)
		sc, k := standinPoolWant(t, dir, [2]string{"standin_draining.xml", "standin_sidecar.xml"}, [2]string{"IP", "AP"})
		if err := echoCalls(t, dir, k, "echo-calls", 6); err != nil {
			t.Fatalf("calls failed while one sidecar drains: %v", err)
		}
		if n := invitesTo(dir, sc[0]); n != 0 {
			t.Errorf("the draining sidecar got %d INVITEs", n)
		}
		if n := invitesTo(dir, sc[1]); n != 6 {
			t.Errorf("the healthy sidecar got %d INVITEs, want 6", n)
		}
	})

	t.Run("INVITE answered 503 fails over", func(t *testing.T) {
		dir := newRunDir(t)
		sc, k := standinPoolWant(t, dir, [2]string{"standin_inv503.xml", "standin_sidecar.xml"}, [2]string{"AP", "AP"})
		if err := echoCalls(t, dir, k, "echo-calls", 12); err != nil {
			t.Fatalf("a call failed although one sidecar was healthy: %v", err)
		}
		if n := invitesTo(dir, sc[1]); n != 12 {
			t.Errorf("the healthy sidecar answered %d calls, want 12", n)
		}
		// 12 calls hashed on their Call-IDs: at least one tried the failing sidecar first
		// (all 12 missing it has odds of 1 in 4096).
		if n := invitesTo(dir, sc[0]); n == 0 {
			t.Errorf("no call tried the failing sidecar: failover not exercised")
		}
	})

	t.Run("stopped sidecar fails over", func(t *testing.T) {
		dir := newRunDir(t)
		sc, k := standinPoolWant(t, dir, [2]string{"standin_sidecar.xml", "standin_sidecar.xml"}, [2]string{"AP", "AP"})
		sc[0].proc.stop(t)
		if err := echoCalls(t, dir, k, "echo-calls", 10); err != nil {
			t.Fatalf("a call failed although one sidecar was up: %v", err)
		}
		if n := invitesTo(dir, sc[1]); n != 10 {
			t.Errorf("the running sidecar answered %d calls, want 10", n)
		}
		if failovers(t, k) == 0 { // odds 1 in 1024
			t.Errorf("no call tried the stopped sidecar: failover not exercised")
		}
	})

	t.Run("a mailbox sticks to one sidecar", func(t *testing.T) {
		dir := newRunDir(t)
		sc, k := standinPoolWant(t, dir, [2]string{"standin_sidecar.xml", "standin_sidecar.xml"}, [2]string{"AP", "AP"})
		// bob's mailbox 2000: three retrievals (*97 by bob), three deposits (calls to bob,
		// who is not registered); alice's mailbox: three retrievals.
		for _, c := range []*sipp{
			{name: "bob-retrievals", user: "bob", password: "bob-secret", keys: map[string]string{"user": "bob", "callee": "*97"}},
			{name: "deposits-for-bob", user: "alice", password: "alice-secret", keys: map[string]string{"user": "alice", "callee": "bob"}},
			{name: "alice-retrievals", user: "alice", password: "alice-secret", keys: map[string]string{"user": "alice", "callee": "*97"}},
		} {
			c.scenario, c.ip, c.calls, c.holdMs, c.rate = "call.xml", kamIP, 3, 50, 10
			c.keys["domain"], c.keys["rtp_ip"], c.keys["rtp_port"], c.keys["extra_header"] = domain, kamIP, "9", "X-Test: plain"
			if err := c.run(t, dir, k.target()); err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
		}
		for _, mbox := range []string{"2000", "alice"} {
			var where []string
			for _, s := range sc {
				for _, m := range received(dir, s.name, "INVITE") {
					if v := headerValues(m, "X-MailBoxId"); len(v) == 1 && v[0] == mbox {
						where = append(where, s.name)
					}
				}
			}
			want := 6
			if mbox == "alice" {
				want = 3
			}
			if len(where) != want {
				t.Errorf("mailbox %s: %d INVITEs reached the pool, want %d", mbox, len(where), want)
			}
			for _, w := range where {
				if w != where[0] {
					t.Errorf("mailbox %s was served by several sidecars: %v", mbox, where)
					break
				}
			}
		}
	})
}

// standinPoolWant starts SIPp stand-ins for two sidecars (scenarios from testdata) and Kamailio
// with them as its pool, and waits until its probes give them the dispatcher flags (AP up, IP
// down). The stand-ins let a test read exactly what Kamailio sends to the pool: Kamailio is
// under test here; the real sidecar is tested with the real binary in calls_test.go.
func standinPoolWant(t *testing.T, dir string, scenarios, flags [2]string) ([2]*sipp, *kamailio) {
	t.Helper()
	var sc [2]*sipp
	var addrs []string
	for i, ip := range []string{sidecar1, sidecar2} {
		sc[i] = &sipp{name: fmt.Sprintf("standin%d", i+1), scenario: scenarios[i], ip: ip}
		sc[i].start(t, dir)
		addrs = append(addrs, fmt.Sprintf("%s:%d", ip, sc[i].port))
	}
	k := startKamailio(t, dir, addrs)
	k.waitPool(t, map[string]string{addrs[0]: flags[0], addrs[1]: flags[1]}, 10*time.Second)
	return sc, k
}
