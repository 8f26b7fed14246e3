package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/sidecar-voip/sidecar/dialoginfo"
	"github.com/sidecar-voip/sidecar/dialplan"
)

// gatedDialplan is to-subscriber for the restart test: the call rings (early) until the test
// opens the gate (the TestGate application), then is answered and stays up until the caller
// hangs up.
const gatedDialplan = `
[to-subscriber]
exten => _!,1,Ringing()
 same => n,TestGate()
 same => n,Answer()
 same => n,Wait(30)
`

// gateApp returns the TestGate application, which returns once open is closed (or the call
// ends), and the channel to close.
func gateApp() (func(*dialplan.Registry) error, chan struct{}) {
	open := make(chan struct{})
	return func(reg *dialplan.Registry) error {
		return reg.Register(dialplan.App{Name: "TestGate", MinArgs: 0, MaxArgs: 0,
			Run: func(ctx context.Context, _ *dialplan.Call, _ []string) (dialplan.Result, error) {
				select {
				case <-open:
					return dialplan.Next(), nil
				case <-ctx.Done():
					return dialplan.Ended(), nil
				}
			}})
	}, open
}

// dialogWatcher follows the dialog states a watcher's NOTIFYs carry.
type dialogWatcher struct {
	*sipPhone
	states []string
}

// collect adds the states of a NOTIFY's dialog-info body (none for an empty body), skipping
// a state equal to the last one.
func (w *dialogWatcher) collect(t *testing.T, n *sip.Request) {
	t.Helper()
	if len(n.Body()) == 0 {
		return
	}
	in, err := dialoginfo.Parse(n.Body())
	if err != nil {
		t.Errorf("watcher NOTIFY body is not RFC 4235 dialog-info: %v\n%s", err, n.Body())
		return
	}
	for _, d := range in.Dialogs {
		if len(w.states) == 0 || w.states[len(w.states)-1] != d.State.Value {
			w.states = append(w.states, d.State.Value)
		}
	}
}

// waitStates reads NOTIFYs until the states seen end with want, for up to d.
func (w *dialogWatcher) waitStates(t *testing.T, want string, d time.Duration) {
	t.Helper()
	deadline := time.After(d)
	for {
		got := strings.Join(w.states, ",")
		if strings.HasSuffix(got, want) {
			return
		}
		select {
		case n := <-w.notifies:
			w.collect(t, n)
		case <-deadline:
			t.Fatalf("watcher saw dialog states %q, want them to end with %q", got, want)
		}
	}
}

// TestBLFAfterKamailioRestart checks RFC 3903's recovery against real Kamailio: the sidecar
// publishes a call's early state to Kamailio's presence server, Kamailio restarts (its
// presence state is in memory: publ_cache 2, subs_db_mode 0) and so forgets the entity-tag;
// when the call is answered the sidecar's modification (SIP-If-Match) gets 412, the sidecar
// publishes afresh, and a watcher that subscribed again sees confirmed, then terminated.
func TestBLFAfterKamailioRestart(t *testing.T) {
	requireE2E(t)
	dir := newRunDir(t)
	apps, gate := gateApp()
	sc := startPresenceSidecarWith(t, dir, gatedDialplan, apps)
	defer func() {
		select {
		case <-gate:
		default:
			close(gate)
		}
	}()
	k := startKamailio(t, dir, []string{sc.addr})
	k.waitPool(t, map[string]string{sc.addr: "AP"}, 15*time.Second)

	watcher := &dialogWatcher{sipPhone: newSIPPhone(t, "alice", "alice-secret")}
	if code := watcher.subscribe(t, k, "bob", dialoginfo.Event, dialoginfo.ContentType); code != 200 && code != 202 {
		t.Fatalf("SUBSCRIBE dialog: %d", code)
	}
	watcher.collect(t, watcher.nextNotify(t, "the dialog subscription's first NOTIFY"))

	// alice calls bob (unregistered: Kamailio diverts the call to the sidecar with bob's
	// subscriber template, publish-dialog-info = yes); the call rings at the gate.
	call := featureCall("alice-calls-bob", "call.xml", "bob", "X-Nothing: 1", 1)
	call.holdMs = 1500
	call.keys["rtp_ip"], call.keys["rtp_port"] = kamIP, "9"
	call.background(t, dir, k.target())
	watcher.waitStates(t, "early", 15*time.Second)
	err := eventually(5*time.Second, func() error {
		if st := sc.srv.Stats().PublishBLF; st.OK < 1 {
			return fmt.Errorf("the sidecar has no PUBLISH answered 2xx yet: %+v", st)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	// Kamailio restarts on the same port. Its presentity table must not give the publication
	// back: with publ_cache 2 nothing is written there, and rows left would make this test
	// prove nothing, so the table is emptied (header line kept) in case a cfg change stores
	// publications.
	k.restart(t)
	table := filepath.Join(dir, "db", "presentity")
	if b, err := os.ReadFile(table); err == nil {
		header, rest, _ := strings.Cut(string(b), "\n")
		if strings.TrimSpace(rest) != "" {
			t.Logf("the presentity table had rows after the restart: emptied")
			mustWrite(t, table, header+"\n")
		}
	}
	k.waitPool(t, map[string]string{sc.addr: "AP"}, 15*time.Second)

	// The watcher's subscription went with the restart: it subscribes again and starts over.
	if code := watcher.subscribe(t, k, "bob", dialoginfo.Event, dialoginfo.ContentType); code != 200 && code != 202 {
		t.Fatalf("SUBSCRIBE dialog after the restart: %d", code)
	}
	watcher.states = nil
	watcher.collect(t, watcher.nextNotify(t, "the new dialog subscription's first NOTIFY"))
	if len(watcher.states) > 0 {
		t.Fatalf("the restarted Kamailio still knows bob's dialog state %v: the 412 path is not exercised", watcher.states)
	}
	before := sc.srv.Stats().PublishBLF

	// The call is answered: the sidecar modifies its publication with the entity-tag the
	// first Kamailio gave, gets 412 and publishes afresh.
	close(gate)
	watcher.waitStates(t, "confirmed,terminated", 20*time.Second)
	if got := strings.Join(watcher.states, ","); got != "confirmed,terminated" {
		t.Errorf("watcher saw %q after the restart, want confirmed,terminated", got)
	}
	after := sc.srv.Stats().PublishBLF
	if after.Recovered412 <= before.Recovered412 {
		t.Errorf("no PUBLISH recovered from a 412: before %+v, after %+v", before, after)
	}
	if after.Failed != before.Failed {
		t.Errorf("PUBLISHes failed after the restart: before %+v, after %+v", before, after)
	}
	if !strings.Contains(sc.log.String(), "PUBLISH 412: the server forgot the entity-tag") {
		t.Errorf("the sidecar's log has no 412 recovery line")
	}
	if ok, err := call.proc.wait(30 * time.Second); !ok || err != nil {
		t.Errorf("the call through the restarted Kamailio did not end well (exited %v): %v", ok, err)
	}
	t.Logf("PUBLISH dialog before the restart %+v, after %+v", before, after)
}
