package sipsvc_test

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/sidecar-voip/sidecar/config"
	"github.com/sidecar-voip/sidecar/mwi"
	"github.com/sidecar-voip/sidecar/sipsvc"
	"github.com/sidecar-voip/sidecar/sipsvc/sipsvctest"
	"github.com/sidecar-voip/sidecar/voicemail"
	"github.com/sidecar-voip/sidecar/voicemail/fsstore"
)

// mwiServer starts a service with a mailbox store in a temporary directory.
func mwiServer(t *testing.T, tune func(*sipsvc.Options)) (*sipsvc.Server, *fsstore.Store) {
	t.Helper()
	store, err := fsstore.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	opts := sipsvc.Options{Config: sipsvctest.Config(), Mailboxes: store}
	if tune != nil {
		tune(&opts)
	}
	return sipsvctest.Start(t, opts), store
}

// deposit commits one message of 1 s into mailbox's INBOX.
func deposit(t *testing.T, store voicemail.Store, mailbox string) {
	t.Helper()
	rec, err := store.Deposit(context.Background(), mailbox, voicemail.Envelope{CallerID: "bob", Codec: "pcmu"},
		voicemail.Limits{MaxMessages: 100})
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Discard()
	if err := rec.WritePCM(make([]int16, 8000)); err != nil {
		t.Fatal(err)
	}
	if _, err := rec.Commit(); err != nil {
		t.Fatal(err)
	}
}

// subscribe is a message-summary SUBSCRIBE from the raw UAC, with a Record-Route.
func subscribe(callID, fromTag, toTag string, cseq int, expires string, extra ...string) *msg {
	m := &msg{method: "SUBSCRIBE", ruri: "sip:1001@sip.example.com", callID: callID, fromTag: fromTag,
		toUser: "1001", toTag: toTag, cseq: cseq, headers: append([]string{"Event: message-summary"}, extra...)}
	if expires != "" {
		m.headers = append(m.headers, "Expires: "+expires)
	}
	return m
}

// wantNotify reads the next request: a NOTIFY with state prefix and voice counts, which it
// answers 200.
func wantNotify(t *testing.T, u *rawUAC, state, counts string) *sip.Request {
	t.Helper()
	req := u.request(5 * time.Second)
	if req.Method != sip.NOTIFY {
		t.Fatalf("want NOTIFY, got %s", req.Method)
	}
	u.respond(req, 200, "OK")
	if ev := req.GetHeader("Event"); ev == nil || ev.Value() != mwi.Event {
		t.Fatalf("NOTIFY Event %v", ev)
	}
	ss := req.GetHeader("Subscription-State")
	if ss == nil || !strings.HasPrefix(ss.Value(), state) {
		t.Fatalf("Subscription-State %v, want prefix %q", ss, state)
	}
	if ct := req.ContentType(); ct == nil || ct.Value() != mwi.ContentType {
		t.Fatalf("Content-Type %v", ct)
	}
	sum, err := mwi.Parse(req.Body())
	if err != nil {
		t.Fatalf("NOTIFY body: %v\n%s", err, req.Body())
	}
	v, _ := sum.Voice()
	got := strings.Fields(strings.SplitN(string(req.Body()), "Voice-Message: ", 2)[1])[0]
	if got != counts {
		t.Fatalf("Voice-Message %s (%+v), want %s", got, v, counts)
	}
	return req
}

func TestSubscribeNotifyOnChange(t *testing.T) {
	srv, store := mwiServer(t, nil)
	u := newRawUAC(t, "127.0.0.1", sipsvctest.Addr(t, srv, "udp"))
	m := subscribe("sub1@test", "ft1", "", 1, "600", "X-MailBoxId: 2001",
		"Record-Route: <sip:"+u.local.String()+";lr>")
	u.send(u.text(m))
	res := u.final(5 * time.Second)
	if res.StatusCode != 200 {
		t.Fatalf("SUBSCRIBE: %d", res.StatusCode)
	}
	if e := res.GetHeader("Expires"); e == nil || e.Value() != "600" {
		t.Fatalf("Expires %v, want 600", e)
	}
	tag := tagOf(res)
	if tag == "" {
		t.Fatal("200 without To tag")
	}
	n := wantNotify(t, u, "active;expires=", "0/0")
	waitFor(t, 5*time.Second, "the first NOTIFY counted", func() bool { return srv.Stats().MWI.NotifySent == 1 })
	if st := srv.Stats().MWI; st != (sipsvc.MWIStats{Subscriptions: 1, NotifySent: 1}) {
		t.Fatalf("MWI stats after SUBSCRIBE %+v, want 1 subscription and 1 NOTIFY", st)
	}
	// The NOTIFY follows the Record-Route (here: the UAC itself) and the dialog.
	if r := n.Route(); r == nil || r.Address.Port != int(u.local.Port()) {
		t.Fatalf("NOTIFY Route %v, want the Record-Route", r)
	}
	if ft, _ := n.From().Params.Get("tag"); ft != tag {
		t.Fatalf("NOTIFY From tag %q, want %q", ft, tag)
	}
	if !strings.Contains(string(n.Body()), "Message-Account: sip:1001@") {
		t.Fatalf("body:\n%s", n.Body())
	}
	if !strings.HasPrefix(string(n.Body()), "Messages-Waiting: no\r\n") {
		t.Fatalf("body:\n%s", n.Body())
	}

	deposit(t, store, "2001")
	n2 := wantNotify(t, u, "active", "1/0")
	if !strings.HasPrefix(string(n2.Body()), "Messages-Waiting: yes\r\n") {
		t.Fatalf("body:\n%s", n2.Body())
	}
	if n2.CSeq().SeqNo <= n.CSeq().SeqNo {
		t.Fatalf("CSeq %d after %d", n2.CSeq().SeqNo, n.CSeq().SeqNo)
	}

	// Refresh in the dialog: 200 and a NOTIFY at once.
	u.send(u.text(subscribe("sub1@test", "ft1", tag, 2, "900")))
	if res := u.final(5 * time.Second); res.StatusCode != 200 || res.GetHeader("Expires").Value() != "900" {
		t.Fatalf("refresh: %d %v", res.StatusCode, res.GetHeader("Expires"))
	}
	wantNotify(t, u, "active;expires=", "1/0")

	// Un-subscribe: 200, then the final NOTIFY.
	u.send(u.text(subscribe("sub1@test", "ft1", tag, 3, "0")))
	if res := u.final(5 * time.Second); res.StatusCode != 200 {
		t.Fatalf("un-subscribe: %d", res.StatusCode)
	}
	wantNotify(t, u, "terminated;reason=timeout", "1/0")
	// Initial, change, refresh and final NOTIFYs, each answered 200; no subscription left.
	waitFor(t, 5*time.Second, "four NOTIFYs counted", func() bool { return srv.Stats().MWI.NotifySent == 4 })
	if st := srv.Stats().MWI; st != (sipsvc.MWIStats{NotifySent: 4}) {
		t.Fatalf("MWI stats after un-subscribe %+v, want no subscription and 4 NOTIFYs", st)
	}

	// Now the subscription is unknown: 481.
	u.send(u.text(subscribe("sub1@test", "ft1", tag, 4, "600")))
	if res := u.final(5 * time.Second); res.StatusCode != 481 {
		t.Fatalf("refresh after un-subscribe: %d, want 481", res.StatusCode)
	}
	// A change no longer reaches the former subscriber.
	deposit(t, store, "2001")
	u.silent(300 * time.Millisecond)
}

func TestSubscribeRefusals(t *testing.T) {
	srv, _ := mwiServer(t, func(o *sipsvc.Options) { o.Config.MWI.MaxSubscriptions = 1 })
	u := newRawUAC(t, "127.0.0.1", sipsvctest.Addr(t, srv, "udp"))

	m := subscribe("", "", "", 1, "600")
	m.headers = []string{"Event: presence", "Expires: 600"}
	u.send(u.text(m))
	res := u.final(5 * time.Second)
	if res.StatusCode != 489 || res.GetHeader("Allow-Events") == nil || res.GetHeader("Allow-Events").Value() != "message-summary" {
		t.Fatalf("Event presence: %d %v, want 489 with Allow-Events", res.StatusCode, res.GetHeader("Allow-Events"))
	}

	u.send(u.text(subscribe("", "", "", 1, "10")))
	res = u.final(5 * time.Second)
	if res.StatusCode != 423 || res.GetHeader("Min-Expires") == nil || res.GetHeader("Min-Expires").Value() != "60" {
		t.Fatalf("Expires 10: %d %v, want 423 Min-Expires 60", res.StatusCode, res.GetHeader("Min-Expires"))
	}

	u.send(u.text(subscribe("", "", "nosuchtag", 2, "600")))
	if res := u.final(5 * time.Second); res.StatusCode != 481 {
		t.Fatalf("refresh of an unknown subscription: %d, want 481", res.StatusCode)
	}

	// Above max-expires: granted max-expires.
	u.send(u.text(subscribe("a@test", "fa", "", 1, "999999")))
	res = u.final(5 * time.Second)
	if res.StatusCode != 200 || res.GetHeader("Expires").Value() != "3600" {
		t.Fatalf("Expires 999999: %d %v, want 200 Expires 3600", res.StatusCode, res.GetHeader("Expires"))
	}
	wantNotify(t, u, "active", "0/0")

	// max-subscriptions = 1: the next one gets 503.
	u.send(u.text(subscribe("b@test", "fb", "", 1, "600")))
	if res := u.final(5 * time.Second); res.StatusCode != 503 {
		t.Fatalf("past max-subscriptions: %d, want 503", res.StatusCode)
	}

	// A fetch (Expires 0, no dialog): 200 and one terminated NOTIFY.
	u.send(u.text(subscribe("c@test", "fc", "", 1, "0")))
	if res := u.final(5 * time.Second); res.StatusCode != 200 {
		t.Fatalf("fetch: %d", res.StatusCode)
	}
	wantNotify(t, u, "terminated;reason=timeout", "0/0")
}

func TestSubscribeWithoutStore(t *testing.T) {
	srv := sipsvctest.Start(t, sipsvc.Options{})
	u := newRawUAC(t, "127.0.0.1", sipsvctest.Addr(t, srv, "udp"))
	u.send(u.text(subscribe("", "", "", 1, "600")))
	res := u.final(5 * time.Second)
	if res.StatusCode != 405 {
		t.Fatalf("no store: %d, want 405", res.StatusCode)
	}
	if allow := res.GetHeader("Allow"); allow == nil || strings.Contains(allow.Value(), "SUBSCRIBE") {
		t.Errorf("405 to SUBSCRIBE without a store: Allow %v, want one without SUBSCRIBE", allow)
	}
}

// With a mailbox store the service takes SUBSCRIBE, and says so in Allow (OPTIONS).
func TestAllowListsSubscribeWithStore(t *testing.T) {
	srv, _ := mwiServer(t, nil)
	u := newRawUAC(t, "127.0.0.1", sipsvctest.Addr(t, srv, "udp"))
	u.send(u.text(&msg{method: "OPTIONS", ruri: "sip:" + sipsvctest.Addr(t, srv, "udp").String()}))
	res := u.final(5 * time.Second)
	if allow := res.GetHeader("Allow"); res.StatusCode != 200 || allow == nil || !strings.Contains(allow.Value(), "SUBSCRIBE") {
		t.Fatalf("OPTIONS: %d, Allow %v, want 200 listing SUBSCRIBE", res.StatusCode, allow)
	}
}

func TestSubscribeExpiry(t *testing.T) {
	srv, _ := mwiServer(t, nil)
	u := newRawUAC(t, "127.0.0.1", sipsvctest.Addr(t, srv, "udp"))
	u.send(u.text(subscribe("exp@test", "fe", "", 1, "120")))
	res := u.final(5 * time.Second)
	if res.StatusCode != 200 {
		t.Fatalf("SUBSCRIBE: %d", res.StatusCode)
	}
	wantNotify(t, u, "active;expires=1", "0/0") // 120 or 119
	srv.SweepMWI(time.Now().Add(60 * time.Second))
	u.silent(200 * time.Millisecond)
	go srv.SweepMWI(time.Now().Add(121 * time.Second)) // it waits for the NOTIFY's answer
	wantNotify(t, u, "terminated;reason=timeout", "0/0")
	u.send(u.text(subscribe("exp@test", "fe", tagOf(res), 2, "120")))
	if res := u.final(5 * time.Second); res.StatusCode != 481 {
		t.Fatalf("refresh after expiry: %d, want 481", res.StatusCode)
	}
}

// A call whose callee profile has mwi = yes teaches the service the mailbox's location; a
// later change of that mailbox, with no subscription, is sent there as an unsolicited NOTIFY
// through [mwi] proxy.
func TestUnsolicitedNotify(t *testing.T) {
	store, err := fsstore.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	proxy := newRawUAC(t, "127.0.0.1", netip.AddrPort{})
	e := startEnvOpts(t, func(c *config.Config) { c.MWI.Proxy = "sip:" + proxy.local.String() },
		func(o *sipsvc.Options) { o.Mailboxes = store })
	proxy.srv = e.udp
	u := newRawUAC(t, "127.0.0.1", e.udp)
	inv := msg{method: "INVITE", ruri: "sip:busy@" + e.udp.String(), toUser: "busy", body: offerSDP,
		headers: []string{"X-Callee-Template: mwibox"}}
	u.send(u.text(&inv))
	if res := u.final(5 * time.Second); res.StatusCode != 486 {
		t.Fatalf("call: %d", res.StatusCode)
	}
	deposit(t, store, "3001")
	n := proxy.request(5 * time.Second)
	proxy.respond(n, 200, "OK")
	if n.Method != sip.NOTIFY || n.Recipient.String() != "sip:bob@sip.example.com" || toTag(n) != "" {
		t.Fatalf("want an out-of-dialog NOTIFY to the location, got %s %s", n.Method, n.Recipient.String())
	}
	if ss := n.GetHeader("Subscription-State"); ss == nil || ss.Value() != "active" {
		t.Fatalf("Subscription-State %v", ss)
	}
	if got := strings.SplitN(string(n.Body()), "Voice-Message: ", 2); len(got) != 2 || !strings.HasPrefix(got[1], "1/0") {
		t.Fatalf("body:\n%s", n.Body())
	}
	waitFor(t, 5*time.Second, "the unsolicited NOTIFY counted", func() bool { return e.srv.Stats().MWI.UnsolicitedSent == 1 })
	if st := e.srv.Stats().MWI; st != (sipsvc.MWIStats{UnsolicitedSent: 1}) {
		t.Fatalf("MWI stats %+v, want 1 unsolicited NOTIFY only", st)
	}
}

func toTag(r *sip.Request) string {
	if to := r.To(); to != nil {
		t, _ := to.Params.Get("tag")
		return t
	}
	return ""
}
