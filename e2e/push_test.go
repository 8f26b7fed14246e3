package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const pushToken = "e2e-push-token-0123456789"

// pushTemplates copies the shipped templates and adds the file template "pushtest" (a
// subscriber in context pushtest, whose only extension *999 answers Busy): a 486 on *999
// shows the call got a profile built from a template inheriting from pushtest.
func pushTemplates(t *testing.T, dir string) string {
	t.Helper()
	dst := filepath.Join(dir, "push-templates")
	if err := os.MkdirAll(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(repoRoot(t), "templates", "*.conf"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		text := string(b)
		if filepath.Base(f) == "extensions.conf" {
			text += "\n[pushtest]\nexten => *999,1,Busy()\n"
		}
		mustWrite(t, filepath.Join(dst, filepath.Base(f)), text)
	}
	mustWrite(t, filepath.Join(dst, "pushtest.conf"), "[pushtest](subscriber)\ncontext = {{ if eq .Role \"caller\" }}pushtest{{ else }}to-subscriber{{ end }}\n")
	return dst
}

// adminCall sends one request to a sidecar's admin API with the token.
func adminCall(t *testing.T, method, url string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+pushToken)
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestPushMode runs examples/kamailio.cfg with -A WITH_PUSH in front of two sidecars with
// their admin API: Kamailio pushes the caller's profile onto the sidecar it picked, the call
// gets that profile, a sidecar whose admin API is down is skipped, and once the push is
// deleted a call naming it fails closed.
func TestPushMode(t *testing.T) {
	requireE2E(t)
	dir := newRunDir(t)
	tpl := pushTemplates(t, dir)
	admins := [2]int{freePort(t, sidecar1), freePort(t, sidecar2)}
	var sc [2]*sidecar
	for i, ip := range []string{sidecar1, sidecar2} {
		sc[i] = startSidecarINI(t, dir, fmt.Sprintf("sidecar%d", i+1), ip, tpl,
			fmt.Sprintf("\n[admin]\nlisten = %s:%d\nallow-remote = yes\ntoken = %s\n", ip, admins[i], pushToken))
	}
	k := startKamailioWith(t, dir, []string{sc[0].addr(), sc[1].addr()},
		"-A", "WITH_PUSH", "-A", fmt.Sprintf("PUSH_TOKEN=%q", pushToken), "-A", "PUSH_TTL=120")
	// alice's subscriber row: template pushtest, codecs g722, pcma.
	sub := filepath.Join(dir, "db", "subscriber")
	b, err := os.ReadFile(sub)
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Replace(string(b), "1:alice:"+domain+":alice-secret::::::", "1:alice:"+domain+":alice-secret:::pushtest:::g722, pcma", 1)
	if text == string(b) {
		t.Fatal("the shipped subscriber table has no row for alice as expected")
	}
	mustWrite(t, sub, text)
	if out, err := k.ctl("db_text.dump"); err != nil {
		t.Logf("db_text.dump: %v %s", err, out) // db_text rereads on change anyway
	}
	k.waitPool(t, map[string]string{sc[0].addr(): "AP", sc[1].addr(): "AP"}, 15*time.Second)

	// setPool rewrites the pool with each sidecar's admin address (dead ones on a port
	// nothing listens on) and reloads it.
	setPool := func(alive [2]bool) {
		t.Helper()
		var pool strings.Builder
		for i, s := range sc {
			port := admins[i]
			if !alive[i] {
				port = freePort(t, s.ip)
			}
			fmt.Fprintf(&pool, "1 sip:%s 0 0 duid=sc%d;admin=%s:%d\n", s.addr(), i+1, s.ip, port)
		}
		mustWrite(t, filepath.Join(dir, "dispatcher.list"), pool.String())
		// dispatcher refuses a reload within a few seconds of the last one: retry.
		err := eventually(15*time.Second, func() error {
			out, err := k.ctl("dispatcher.reload")
			if err == nil && strings.Contains(strings.ToLower(out), "error") {
				err = fmt.Errorf("%s", strings.TrimSpace(out))
			}
			return err
		})
		if err != nil {
			t.Fatalf("dispatcher.reload: %v", err)
		}
		want := map[string]bool{}
		for _, line := range strings.Split(pool.String(), "\n") {
			if f := strings.Fields(line); len(f) == 5 {
				want[f[4]] = true
			}
		}
		if err := eventually(5*time.Second, func() error {
			out, _ := k.ctl("dispatcher.list")
			for attrs := range want {
				if !strings.Contains(out, attrs) {
					return fmt.Errorf("pool has no %s yet", attrs)
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		k.waitPool(t, map[string]string{sc[0].addr(): "AP", sc[1].addr(): "AP"}, 15*time.Second)
	}
	pushedOn := func() []int {
		var on []int
		for i, s := range sc {
			if code, _ := adminCall(t, "GET", fmt.Sprintf("http://%s:%d/templates/kam-alice", s.ip, admins[i])); code == 200 {
				on = append(on, i)
			}
		}
		return on
	}

	t.Run("the pushed profile is the one the call gets", func(t *testing.T) {
		setPool([2]bool{true, true})
		c := featureCall("push-alice-999", "call_486.xml", "*999", "X-Test: push", 1)
		if err := c.run(t, dir, k.target()); err != nil {
			t.Fatalf("alice calling *999 did not get 486 from context pushtest: %v", err)
		}
		on := pushedOn()
		if len(on) != 1 {
			t.Fatalf("kam-alice is pushed on sidecars %v, want exactly one", on)
		}
		code, body := adminCall(t, "GET", fmt.Sprintf("http://%s:%d/templates/kam-alice", sc[on[0]].ip, admins[on[0]]))
		var got struct {
			Origin  string
			Expires string
			Parents []string
			Profile struct {
				Codecs  []string
				Context string
			}
		}
		if err := json.Unmarshal([]byte(body), &got); err != nil || code != 200 {
			t.Fatalf("GET kam-alice: %d %s", code, body)
		}
		if got.Origin != "pushed" || got.Expires == "" || strings.Join(got.Parents, ",") != "pushtest" ||
			strings.Join(got.Profile.Codecs, ",") != "g722,pcma" || got.Profile.Context != "pushtest" {
			t.Errorf("kam-alice on sidecar%d: %s", on[0]+1, body)
		}
		if n := routedTo(t, k, "*999", sc[on[0]].addr()); n != 1 {
			t.Errorf("the call went to sidecar%d %d times, want once (the one holding the push)", on[0]+1, n)
		}
	})

	t.Run("a sidecar whose admin API is down is skipped", func(t *testing.T) {
		// The pool hashes alice's mailbox to the same first sidecar every time: with each
		// sidecar's admin API down in turn, one of the two runs must fail over.
		for i := range sc {
			alive := [2]bool{true, true}
			alive[i] = false
			setPool(alive)
			for j, s := range sc {
				adminCall(t, "DELETE", fmt.Sprintf("http://%s:%d/templates/kam-alice", s.ip, admins[j]))
			}
			c := featureCall(fmt.Sprintf("push-skip-%d", i+1), "call_486.xml", "*999", "X-Test: push", 1)
			if err := c.run(t, dir, k.target()); err != nil {
				t.Fatalf("with sidecar%d's admin API down the call failed: %v", i+1, err)
			}
			if on := pushedOn(); len(on) != 1 || on[0] == i {
				t.Errorf("with sidecar%d's admin API down kam-alice is on %v", i+1, on)
			}
		}
		log, _ := os.ReadFile(k.log)
		if !strings.Contains(string(log), "push of kam-alice to ") {
			t.Error("Kamailio's log shows no failed push: the failover was not exercised")
		}
	})

	t.Run("after DELETE a call naming the push fails closed", func(t *testing.T) {
		on := pushedOn()
		if len(on) != 1 {
			t.Fatalf("kam-alice on %v", on)
		}
		s := sc[on[0]]
		if code, body := adminCall(t, "DELETE", fmt.Sprintf("http://%s:%d/templates/kam-alice", s.ip, admins[on[0]])); code != 204 {
			t.Fatalf("DELETE: %d %s", code, body)
		}
		c := &sipp{name: "push-deleted", scenario: "direct_403.xml", ip: kamIP, calls: 1,
			keys: map[string]string{"domain": domain, "callee": "*999", "extra_header": "X-Caller-Template: kam-alice;user=alice"}}
		if err := c.run(t, dir, s.addr()); err != nil {
			t.Fatalf("a call naming the deleted push was not refused with 403: %v", err)
		}
	})
}
