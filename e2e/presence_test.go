package e2e

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/sidecar-voip/sidecar/app"
	"github.com/sidecar-voip/sidecar/config"
	"github.com/sidecar-voip/sidecar/dialoginfo"
	"github.com/sidecar-voip/sidecar/dialplan"
	"github.com/sidecar-voip/sidecar/mwi"
	"github.com/sidecar-voip/sidecar/routing"
	"github.com/sidecar-voip/sidecar/sipsvc"
	"github.com/sidecar-voip/sidecar/sipsvc/sipsvctest"
	"github.com/sidecar-voip/sidecar/templates"
	"github.com/sidecar-voip/sidecar/voicemail"
	"github.com/sidecar-voip/sidecar/voicemail/fsstore"
)

// presenceDialplan replaces the shipped to-subscriber context in the MWI/BLF test: the call
// rings, is answered and stays up until the caller hangs up, so its dialog goes early,
// confirmed and terminated.
const presenceDialplan = `
[to-subscriber]
exten => _!,1,Ringing()
 same => n,Wait(1)
 same => n,Answer()
 same => n,Wait(30)
`

// startPresenceSidecar serves a sidecar in this process on sidecar1 with the shipped
// templates (to-subscriber replaced), a mailbox store in dir and the media test double.
func startPresenceSidecar(t *testing.T, dir string) (string, voicemail.Store, *sipsvctest.Log) {
	t.Helper()
	ps := startPresenceSidecarWith(t, dir, presenceDialplan, nil)
	return ps.addr, ps.store, ps.log
}

// presenceSidecar is a sidecar served in this process by startPresenceSidecarWith.
type presenceSidecar struct {
	addr  string
	store voicemail.Store
	log   *sipsvctest.Log
	srv   *sipsvc.Server
}

// startPresenceSidecarWith is startPresenceSidecar with to-subscriber replaced by toSubscriber
// (a context text starting "[to-subscriber]") and more applications registered by apps
// (nil: none).
func startPresenceSidecarWith(t *testing.T, dir, toSubscriber string, apps func(*dialplan.Registry) error) *presenceSidecar {
	t.Helper()
	tpl := filepath.Join(dir, "templates")
	if err := os.MkdirAll(tpl, 0o755); err != nil {
		t.Fatal(err)
	}
	entries, err := templates.FS.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".conf") {
			continue
		}
		b, err := templates.FS.ReadFile(e.Name())
		if err != nil {
			t.Fatal(err)
		}
		text := string(b)
		if e.Name() == "extensions.conf" {
			i := strings.Index(text, "[to-subscriber]")
			j := strings.Index(text[i+1:], "\n[")
			text = text[:i] + strings.TrimPrefix(toSubscriber, "\n") + text[i+1+j+1:]
		}
		mustWrite(t, filepath.Join(tpl, e.Name()), text)
	}
	store, err := fsstore.Open(filepath.Join(dir, "voicemail"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	port := freePort(t, sidecar1)
	cfg := config.Default()
	ap := netip.AddrPortFrom(netip.MustParseAddr(sidecar1), uint16(port))
	cfg.SIP.Listen = []config.Listen{{Transport: "udp", Addr: ap}, {Transport: "tcp", Addr: ap}}
	cfg.General.Templates = tpl
	reg, err := app.NewRegistry(app.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	if apps != nil {
		if err := apps(reg); err != nil {
			t.Fatal(err)
		}
	}
	bundle, diag := routing.Load(routing.Options{Config: cfg, Dir: tpl, Apps: reg})
	if err := diag.Err(); err != nil {
		t.Fatalf("load templates: %v", err)
	}
	logger, buf := sipsvctest.NewLog()
	srv, err := sipsvc.New(sipsvc.Options{Config: cfg, Router: bundle, Media: &sipsvctest.Media{}, Mailboxes: store, Log: logger})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
		if t.Failed() {
			t.Logf("sidecar log:\n%s", buf.String())
		}
	})
	select {
	case <-srv.Ready():
	case err := <-done:
		t.Fatalf("sidecar: %v", err)
	}
	return &presenceSidecar{addr: ap.String(), store: store, log: buf, srv: srv}
}

// sipPhone is a user agent on loopback that subscribes through Kamailio (digest auth) and
// collects the NOTIFYs it gets, answering each 200.
type sipPhone struct {
	user, password string
	addr           string
	client         *sipgo.Client
	notifies       chan *sip.Request
}

func newSIPPhone(t *testing.T, user, password string) *sipPhone {
	t.Helper()
	ua, err := sipgo.NewUA(sipgo.WithUserAgent(user))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sipgo.NewServer(ua)
	if err != nil {
		t.Fatal(err)
	}
	p := &sipPhone{user: user, password: password, notifies: make(chan *sip.Request, 64)}
	srv.OnNotify(func(req *sip.Request, tx sip.ServerTransaction) {
		tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
		p.notifies <- req.Clone()
	})
	pc, err := net.ListenPacket("udp", kamIP+":0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = pc.LocalAddr().String()
	go srv.ServeUDP(pc)
	host, port, _ := net.SplitHostPort(p.addr)
	var portN int
	fmt.Sscan(port, &portN)
	p.client, err = sipgo.NewClient(ua, sipgo.WithClientHostname(host), sipgo.WithClientPort(portN))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ua.Close() })
	return p
}

// subscribe sends SUBSCRIBE for event to target@domain through Kamailio and returns the
// final answer's status.
func (p *sipPhone) subscribe(t *testing.T, k *kamailio, target, event, accept string) int {
	t.Helper()
	ruri := sip.Uri{Scheme: "sip", User: target, Host: domain}
	req := sip.NewRequest(sip.SUBSCRIBE, ruri)
	from := &sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: p.user, Host: domain}, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(12))
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: ruri})
	host, port, _ := net.SplitHostPort(p.addr)
	var portN int
	fmt.Sscan(port, &portN)
	req.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: p.user, Host: host, Port: portN}})
	req.AppendHeader(sip.NewHeader("Event", event))
	req.AppendHeader(sip.NewHeader("Accept", accept))
	req.AppendHeader(sip.NewHeader("Expires", "600"))
	req.SetDestination(k.target())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := p.client.Do(ctx, req)
	if err != nil {
		t.Fatalf("SUBSCRIBE %s: %v", event, err)
	}
	if res.StatusCode == 401 || res.StatusCode == 407 {
		res, err = p.client.DoDigestAuth(ctx, req, res, sipgo.DigestAuth{Username: p.user, Password: p.password})
		if err != nil {
			t.Fatalf("SUBSCRIBE %s with credentials: %v", event, err)
		}
	}
	return res.StatusCode
}

// nextNotify waits for the next NOTIFY.
func (p *sipPhone) nextNotify(t *testing.T, what string) *sip.Request {
	t.Helper()
	select {
	case n := <-p.notifies:
		return n
	case <-time.After(15 * time.Second):
		t.Fatalf("no NOTIFY: %s", what)
		return nil
	}
}

// voiceCounts returns a message-summary NOTIFY's Voice-Message counts as "new/old".
func voiceCounts(t *testing.T, n *sip.Request) string {
	t.Helper()
	if ev := n.GetHeader("Event"); ev == nil || ev.Value() != mwi.Event {
		t.Fatalf("NOTIFY Event %v, want message-summary", ev)
	}
	if n.GetHeader("Subscription-State") == nil {
		t.Fatal("NOTIFY without Subscription-State")
	}
	s, err := mwi.Parse(n.Body())
	if err != nil {
		t.Fatalf("NOTIFY body: %v\n%s", err, n.Body())
	}
	c, ok := s.Voice()
	if !ok {
		t.Fatalf("NOTIFY body without Voice-Message:\n%s", n.Body())
	}
	return fmt.Sprintf("%d/%d", c.New, c.Old)
}

// TestMWIAndBLFThroughKamailio runs examples/kamailio.cfg in front of a sidecar with a mailbox
// store: bob's phone subscribes to message-summary through Kamailio and sees a deposit; alice
// watches bob's dialog state at Kamailio's presence server while a call to bob reaches the
// sidecar, which PUBLISHes it.
func TestMWIAndBLFThroughKamailio(t *testing.T) {
	requireE2E(t)
	dir := newRunDir(t)
	addr, store, _ := startPresenceSidecar(t, dir)
	k := startKamailio(t, dir, []string{addr})
	k.waitPool(t, map[string]string{addr: "AP"}, 15*time.Second)

	t.Run("MWI subscription gets 0/0 then 1/0 after a deposit", func(t *testing.T) {
		phone := newSIPPhone(t, "bob", "bob-secret")
		if code := phone.subscribe(t, k, "bob", mwi.Event, mwi.ContentType); code != 200 && code != 202 {
			t.Fatalf("SUBSCRIBE message-summary: %d", code)
		}
		if got := voiceCounts(t, phone.nextNotify(t, "the first MWI NOTIFY")); got != "0/0" {
			t.Fatalf("first NOTIFY: Voice-Message %s, want 0/0", got)
		}
		// bob's mailbox is 2000 (the subscriber table's mailbox column, sent as X-MailBoxId).
		rec, err := store.Deposit(context.Background(), "2000", voicemail.Envelope{CallerID: "alice", Codec: "pcmu"},
			voicemail.DefaultLimits())
		if err != nil {
			t.Fatal(err)
		}
		if err := rec.WritePCM(make([]int16, 16000)); err != nil {
			t.Fatal(err)
		}
		if _, err := rec.Commit(); err != nil {
			t.Fatal(err)
		}
		if got := voiceCounts(t, phone.nextNotify(t, "the NOTIFY after a deposit")); got != "1/0" {
			t.Fatalf("NOTIFY after the deposit: Voice-Message %s, want 1/0", got)
		}
	})

	t.Run("BLF watcher sees the call to bob early, confirmed, terminated", func(t *testing.T) {
		watcher := newSIPPhone(t, "alice", "alice-secret")
		if code := watcher.subscribe(t, k, "bob", dialoginfo.Event, dialoginfo.ContentType); code != 200 && code != 202 {
			t.Fatalf("SUBSCRIBE dialog: %d", code)
		}
		var mu sync.Mutex
		var states []string
		collect := func(n *sip.Request) {
			if len(n.Body()) == 0 {
				return
			}
			in, err := dialoginfo.Parse(n.Body())
			if err != nil {
				t.Errorf("watcher NOTIFY body is not RFC 4235 dialog-info: %v\n%s", err, n.Body())
				return
			}
			mu.Lock()
			defer mu.Unlock()
			for _, d := range in.Dialogs {
				if len(states) == 0 || states[len(states)-1] != d.State.Value {
					states = append(states, d.State.Value)
				}
			}
		}
		collect(watcher.nextNotify(t, "the dialog subscription's first NOTIFY"))

		call := featureCall("alice-calls-bob", "call.xml", "bob", "X-Nothing: 1", 1)
		call.holdMs = 1500
		call.keys["rtp_ip"], call.keys["rtp_port"] = kamIP, "9"
		if err := call.run(t, dir, k.target()); err != nil {
			t.Fatalf("call alice -> bob (voicemail on the sidecar): %v", err)
		}
		deadline := time.After(15 * time.Second)
		for {
			mu.Lock()
			got := strings.Join(states, ",")
			mu.Unlock()
			if strings.HasSuffix(got, "early,confirmed,terminated") {
				return
			}
			select {
			case n := <-watcher.notifies:
				collect(n)
			case <-deadline:
				t.Fatalf("watcher saw dialog states %q, want early, confirmed, terminated", got)
			}
		}
	})
}
