package e2e

import (
	"fmt"
	"strings"
	"testing"
)

// register registers user@domain with the contact sip:user@kamIP:contactPort.
func register(t *testing.T, dir string, k *kamailio, user, password string, contactPort int) error {
	t.Helper()
	r := &sipp{name: "register-" + user, scenario: "register.xml", ip: kamIP, calls: 1,
		user: user, password: password,
		keys: map[string]string{"user": user, "domain": domain,
			"contact": fmt.Sprintf("sip:%s@%s:%d", user, kamIP, contactPort)}}
	return r.run(t, dir, k.target())
}

// TestRegistration checks digest registration against the shipped db_text subscriber table:
// the right password registers a contact Kamailio can look up (over UDP and TCP), a wrong one
// is refused and registers nothing.
func TestRegistration(t *testing.T) {
	requireE2E(t)
	dir := newRunDir(t)
	_, k := standinPoolWant(t, dir, [2]string{"standin_sidecar.xml", "standin_sidecar.xml"}, [2]string{"AP", "AP"})

	contact := freePort(t, kamIP)
	if err := register(t, dir, k, "alice", "alice-secret", contact); err != nil {
		t.Fatalf("register alice: %v", err)
	}
	out, err := k.registered("alice")
	if err != nil || !strings.Contains(out, fmt.Sprintf("sip:alice@%s:%d", kamIP, contact)) {
		t.Errorf("ul.lookup alice after registering: err=%v\n%s", err, out)
	}

	tcp := &sipp{name: "register-over-tcp", scenario: "register.xml", ip: kamIP, calls: 1, tcp: true,
		user: "bob", password: "bob-secret",
		keys: map[string]string{"user": "bob", "domain": domain, "contact": fmt.Sprintf("sip:bob@%s:%d;transport=tcp", kamIP, contact)}}
	if err := tcp.run(t, dir, k.target()); err != nil {
		t.Errorf("register bob over TCP: %v", err)
	}
	if out, err := k.registered("bob"); err != nil || !strings.Contains(out, "transport=tcp") {
		t.Errorf("ul.lookup bob after registering over TCP: err=%v\n%s", err, out)
	}
	bad := &sipp{name: "register-wrong-password", scenario: "register_rejected.xml", ip: kamIP, calls: 1,
		user: "bob", password: "not-bobs-password",
		keys: map[string]string{"user": "bob", "domain": domain, "contact": "sip:wrong-password@127.0.0.1:9"}}
	if err := bad.run(t, dir, k.target()); err != nil {
		t.Errorf("REGISTER with a wrong password was not refused: %v", err)
	}
	if out, _ := k.registered("bob"); strings.Contains(out, "wrong-password") {
		t.Errorf("bob registered with a wrong password:\n%s", out)
	}
}
