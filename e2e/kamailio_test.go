package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Addresses on loopback. Phones and Kamailio use kamIP; each sidecar gets its own address, as
// in a deployment where no phone shares a sidecar's IP (the cfg trusts sidecars by source IP).
const (
	kamIP    = "127.0.0.1"
	domain   = "sip.test"
	sidecar1 = "127.0.0.2"
	sidecar2 = "127.0.0.3"
	// noAnswerMs is the cfg's NOANSWER_TIMEOUT in the suite: short, so tests stay quick.
	noAnswerMs = 1500
	// kamailioTick is the resolution of Kamailio's timers (TIMER_TICKS_HZ = 16).
	kamailioTick = time.Second / 16
)

// The suite uses the subscribers of the shipped db_text table (examples/kamailio/db/subscriber)
// with the test domain written in: alice (password alice-secret, every template column empty:
// default template, mailbox "alice", no PIN) and bob (bob-secret, template "subscriber",
// mailbox 2000, PIN 4321).

// kamailio is a running Kamailio with examples/kamailio.cfg.
type kamailio struct {
	*proc
	port   int
	rundir string
	dir    string   // the run folder
	extra  []string // the kamailio arguments added to the suite's (restart uses them again)
	starts int      // how many times it was started (restart names its log by it)
}

// target returns Kamailio's SIP address for SIPp.
func (k *kamailio) target() string { return fmt.Sprintf("%s:%d", kamIP, k.port) }

// ctl runs kamcmd against this Kamailio.
func (k *kamailio) ctl(args ...string) (string, error) {
	return runCmd("kamcmd", append([]string{"-s", "unix:" + filepath.Join(k.rundir, "kamailio_ctl")}, args...)...)
}

// kamailioArgs returns the -A parameters that point the cfg at dir's files and free ports.
func kamailioArgs(dir string, port int) []string {
	return []string{
		"-A", "LISTEN_IP=" + kamIP,
		"-A", fmt.Sprintf("SIP_PORT=%d", port),
		"-A", fmt.Sprintf("DOMAIN=%q", domain),
		"-A", fmt.Sprintf("DISPATCHER_LIST=%q", filepath.Join(dir, "dispatcher.list")),
		"-A", fmt.Sprintf("DBURL=%q", "text://"+filepath.Join(dir, "db")),
		"-A", fmt.Sprintf("RUNDIR=%q", filepath.Join(dir, "run")),
		"-A", fmt.Sprintf("NOANSWER_TIMEOUT=%d", noAnswerMs),
		"-A", "SIDECAR_TIMEOUT=1000",
		"-A", "PING_INTERVAL=1",
	}
}

// prepareKamailioDir writes the pool file for sidecars ("ip:port" each) and copies the shipped
// db_text tables, with the test domain, into dir.
func prepareKamailioDir(t *testing.T, dir string, sidecars []string) {
	t.Helper()
	var pool strings.Builder
	for i, s := range sidecars {
		fmt.Fprintf(&pool, "1 sip:%s 0 0 duid=sc%d\n", s, i+1)
	}
	mustWrite(t, filepath.Join(dir, "dispatcher.list"), pool.String())
	src := filepath.Join(repoRoot(t), "examples", "kamailio", "db")
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatalf("read shipped db_text tables: %v", err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "db"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if e.Name() == "subscriber" {
			b = []byte(strings.ReplaceAll(string(b), "sip.example.com", domain))
		}
		mustWrite(t, filepath.Join(dir, "db", e.Name()), string(b))
	}
	if err := os.MkdirAll(filepath.Join(dir, "run"), 0o755); err != nil {
		t.Fatal(err)
	}
}

// startKamailio runs examples/kamailio.cfg in the foreground on a free port with sidecars as
// its pool, and waits until its control socket answers.
func startKamailio(t *testing.T, dir string, sidecars []string) *kamailio {
	t.Helper()
	return startKamailioWith(t, dir, sidecars)
}

// startKamailioWith is startKamailio with more kamailio arguments (-A WITH_PUSH, ...).
func startKamailioWith(t *testing.T, dir string, sidecars []string, extra ...string) *kamailio {
	t.Helper()
	prepareKamailioDir(t, dir, sidecars)
	run := filepath.Join(dir, "run")
	// The port is probed, then released for Kamailio to bind, so another process (a parallel
	// test package) may take it in between: when Kamailio exits because it could not bind, it
	// is started again on a new port.
	for attempt := 1; ; attempt++ {
		k := &kamailio{port: freePort(t, kamIP), rundir: run, dir: dir, extra: extra}
		err := k.start(t, "kamailio")
		if err == nil {
			return k
		}
		if log, _ := os.ReadFile(k.log); attempt < 3 && !k.running() && strings.Contains(string(log), "Address already in use") {
			t.Logf("kamailio could not bind port %d (attempt %d): retrying on a new port", k.port, attempt)
			continue
		}
		t.Fatalf("kamailio not ready: %v", err)
	}
}

// start runs Kamailio on k.port with its log in the run folder as name.log, and waits until
// its control socket answers.
func (k *kamailio) start(t *testing.T, name string) error {
	t.Helper()
	args := []string{"kamailio", "-DD", "-E", "-f", filepath.Join(repoRoot(t), "examples", "kamailio.cfg"),
		"-w", k.dir, "-P", filepath.Join(k.rundir, "kamailio.pid"), "-m", "64", "-M", "8"}
	args = append(args, kamailioArgs(k.dir, k.port)...)
	args = append(args, k.extra...)
	k.proc = startProc(t, k.dir, name, args...)
	k.starts++
	return eventually(10*time.Second, func() error {
		if !k.running() {
			return fmt.Errorf("kamailio exited: %v", k.err)
		}
		_, err := k.ctl("core.version")
		return err
	})
}

// restart stops Kamailio (SIGTERM, waiting for it to exit) and starts it again on the same
// port with the same arguments; what it held in memory (registrations, presence state) is
// gone. The new process logs to kamailio-N.log.
func (k *kamailio) restart(t *testing.T) {
	t.Helper()
	k.stop(t)
	if k.running() {
		t.Fatalf("kamailio (pid %d) still running after stop", k.cmd.Process.Pid)
	}
	if err := k.start(t, fmt.Sprintf("kamailio-%d", k.starts+1)); err != nil {
		t.Fatalf("kamailio restarted on port %d not ready: %v\n%s", k.port, err, tail(k.log, 20))
	}
}

// sidecarFlags returns the dispatcher FLAGS of every pool member, by URI.
func (k *kamailio) sidecarFlags() (map[string]string, error) {
	out, err := k.ctl("dispatcher.list")
	if err != nil {
		return nil, fmt.Errorf("dispatcher.list: %v: %s", err, out)
	}
	flags := map[string]string{}
	uri := ""
	for _, line := range strings.Split(out, "\n") {
		line = strings.TrimSpace(line)
		if v, ok := strings.CutPrefix(line, "URI: "); ok {
			uri = v
		}
		if v, ok := strings.CutPrefix(line, "FLAGS: "); ok && uri != "" {
			flags[uri] = v
		}
	}
	return flags, nil
}

// waitPool waits until each sidecar ("ip:port") has the dispatcher flags want ("AP" active,
// "IP" inactive; both probing).
func (k *kamailio) waitPool(t *testing.T, want map[string]string, d time.Duration) {
	t.Helper()
	err := eventually(d, func() error {
		got, err := k.sidecarFlags()
		if err != nil {
			return err
		}
		for addr, w := range want {
			if g := got["sip:"+addr]; g != w {
				return fmt.Errorf("sidecar %s has flags %q, want %q (all: %v)", addr, g, w, got)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("dispatcher pool: %v", err)
	}
}

// registered reports the contacts Kamailio holds for user.
func (k *kamailio) registered(user string) (string, error) {
	return k.ctl("ul.lookup", "location", user)
}

func mustWrite(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatalf("write %s: %v", path, err)
	}
}
