package e2e

import (
	"strings"
	"testing"
	"time"
)

// TestFromSidecar checks that Kamailio recognises the pool by source address: a sidecar's
// MWI NOTIFY and its call back to a phone are delivered to the registered phone without
// authentication and without template headers; the same NOTIFY from a phone's address is
// refused and never reaches the phone.
func TestFromSidecar(t *testing.T) {
	requireE2E(t)
	dir := newRunDir(t)
	_, k := standinPoolWant(t, dir, [2]string{"standin_sidecar.xml", "standin_sidecar.xml"}, [2]string{"AP", "AP"})

	phone := &sipp{name: "bob-phone", scenario: "phone_answer.xml", ip: kamIP}
	phone.port = freePort(t, kamIP)
	phone.start(t, dir)
	if err := register(t, dir, k, "bob", "bob-secret", phone.port); err != nil {
		t.Fatalf("register bob: %v", err)
	}
	notifies := func() int { return len(received(dir, phone.name, "NOTIFY")) }

	t.Run("MWI NOTIFY from a sidecar reaches the phone", func(t *testing.T) {
		n := &sipp{name: "notify-from-sidecar", scenario: "notify.xml", ip: sidecar1, calls: 1,
			keys: map[string]string{"target": "bob", "domain": domain}}
		if err := n.run(t, dir, k.target()); err != nil {
			t.Fatalf("NOTIFY from %s: %v", sidecar1, err)
		}
		if got := notifies(); got != 1 {
			t.Fatalf("phone got %d NOTIFYs, want 1", got)
		}
		msg := received(dir, phone.name, "NOTIFY")[0]
		if !strings.Contains(msg, "Messages-Waiting: yes") || !strings.Contains(msg, "Event: message-summary") {
			t.Errorf("phone got an unexpected NOTIFY:\n%s", msg)
		}
	})

	t.Run("NOTIFY from a phone's address is refused", func(t *testing.T) {
		n := &sipp{name: "notify-from-phone", scenario: "notify_refused.xml", ip: kamIP, calls: 1,
			keys: map[string]string{"target": "bob", "domain": domain}}
		if err := n.run(t, dir, k.target()); err != nil {
			t.Fatalf("NOTIFY from %s was not refused with 403: %v", kamIP, err)
		}
		time.Sleep(200 * time.Millisecond)
		if got := notifies(); got != 1 {
			t.Errorf("phone got %d NOTIFYs, want still 1", got)
		}
	})

	t.Run("call from a sidecar reaches the phone without template headers", func(t *testing.T) {
		c := &sipp{name: "call-from-sidecar", scenario: "sidecar_call.xml", ip: sidecar2, calls: 1,
			keys: map[string]string{"callee": "bob", "domain": domain,
				"extra_header": "X-Callee-Template: subscriber;user=bob"}}
		if err := c.run(t, dir, k.target()); err != nil {
			t.Fatalf("call from sidecar to bob: %v", err)
		}
		invs := received(dir, phone.name, "INVITE")
		if len(invs) != 1 {
			t.Fatalf("phone got %d INVITEs, want 1", len(invs))
		}
		if strings.Contains(invs[0], "-Template") {
			t.Errorf("a template header reached the phone:\n%s", invs[0])
		}
		if !strings.Contains(invs[0], "Record-Route:") {
			t.Errorf("the call was not record-routed:\n%s", invs[0])
		}
	})

	t.Run("PUBLISH only from a sidecar", func(t *testing.T) {
		ok := &sipp{name: "publish-from-sidecar", scenario: "publish_mwi_200.xml", ip: sidecar1, calls: 1,
			keys: map[string]string{"target": "bob", "domain": domain}}
		if err := ok.run(t, dir, k.target()); err != nil {
			t.Errorf("PUBLISH from a sidecar was not accepted by the presence server: %v", err)
		}
		bad := &sipp{name: "publish-from-phone", scenario: "publish_mwi_403.xml", ip: kamIP, calls: 1,
			keys: map[string]string{"target": "bob", "domain": domain}}
		if err := bad.run(t, dir, k.target()); err != nil {
			t.Errorf("PUBLISH from a phone's address was not refused with 403: %v", err)
		}
	})
}
