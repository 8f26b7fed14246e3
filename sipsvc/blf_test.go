package sipsvc_test

import (
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/sidecar-voip/sidecar/config"
	"github.com/sidecar-voip/sidecar/dialoginfo"
	"github.com/sidecar-voip/sidecar/publish"
)

// fakePresence is a presence server that accepts every PUBLISH and records it.
type fakePresence struct {
	addr string
	mu   sync.Mutex
	got  []*sip.Request
}

func startFakePresence(t *testing.T) *fakePresence {
	t.Helper()
	ua, err := sipgo.NewUA()
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sipgo.NewServer(ua)
	if err != nil {
		t.Fatal(err)
	}
	fp := &fakePresence{}
	srv.OnPublish(func(req *sip.Request, tx sip.ServerTransaction) {
		fp.mu.Lock()
		fp.got = append(fp.got, req.Clone())
		n := len(fp.got)
		fp.mu.Unlock()
		res := sip.NewResponseFromRequest(req, 200, "OK", nil)
		res.AppendHeader(sip.NewHeader("SIP-ETag", "etag"+string(rune('a'+n))))
		res.AppendHeader(sip.NewHeader("Expires", req.GetHeader("Expires").Value()))
		tx.Respond(res)
	})
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fp.addr = pc.LocalAddr().String()
	go srv.ServeUDP(pc)
	t.Cleanup(func() { ua.Close() })
	return fp
}

// states returns the dialog states published so far for entity, checking each body.
func (fp *fakePresence) states(t *testing.T, entity string) []string {
	t.Helper()
	fp.mu.Lock()
	defer fp.mu.Unlock()
	var out []string
	for _, r := range fp.got {
		if ev := r.GetHeader("Event"); ev == nil || ev.Value() != dialoginfo.Event {
			t.Errorf("PUBLISH Event %v", ev)
			continue
		}
		in, err := dialoginfo.Parse(r.Body())
		if err != nil {
			t.Errorf("PUBLISH body: %v\n%s", err, r.Body())
			continue
		}
		if in.Entity != entity || r.Recipient.String() != entity {
			continue
		}
		for _, d := range in.Dialogs {
			s := d.State.Value
			if d.State.Event != "" {
				s += "/" + d.State.Event
			}
			out = append(out, s+"/"+d.Direction)
		}
	}
	return out
}

func TestBLFPublishesCallStates(t *testing.T) {
	fp := startFakePresence(t)
	e := startEnv(t, func(c *config.Config) { c.Presence.Server = "sip:" + fp.addr })
	u := newRawUAC(t, "127.0.0.1", e.udp)
	entity := "sip:ring@" + e.udp.String()

	// Rings, then the caller cancels: early, then terminated (cancelled).
	inv := msg{method: "INVITE", ruri: "sip:ring@" + e.udp.String(), toUser: "ring", body: offerSDP,
		headers: []string{"X-Callee-Template: blf"}}
	u.send(u.text(&inv))
	for {
		m := u.next(5 * time.Second)
		if m == nil {
			t.Fatal("no 180")
		}
		if r, ok := m.(*sip.Response); ok && r.StatusCode == 180 {
			break
		}
	}
	// The phone rings until its early state went out: a CANCEL before the publisher took it
	// would leave only the terminated to publish (a publisher that is behind publishes a
	// call's latest state), which is what a loaded machine did to this test.
	waitFor(t, 5*time.Second, "early published", func() bool { return len(fp.states(t, entity)) >= 1 })
	cancel := inv
	cancel.method, cancel.body = "CANCEL", ""
	u.send(strings.Replace(u.text(&cancel), "CSeq: 1 CANCEL", "CSeq: 1 CANCEL", 1))
	waitFor(t, 5*time.Second, "early and terminated published", func() bool { return len(fp.states(t, entity)) >= 2 })
	want := []string{"early/recipient", "terminated/cancelled/recipient"}
	if got := fp.states(t, entity); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("published %q, want %q", got, want)
	}

	// Answered, then hung up by the dialplan: confirmed, terminated.
	inv2 := msg{method: "INVITE", ruri: "sip:hangup@" + e.udp.String(), toUser: "hangup", body: offerSDP,
		headers: []string{"X-Callee-Template: blf"}}
	u.send(u.text(&inv2))
	res := u.final(5 * time.Second)
	if res.StatusCode != 200 {
		t.Fatalf("hangup: %d", res.StatusCode)
	}
	entity2 := "sip:hangup@" + e.udp.String()
	// The dialplan hangs up once the 200 is ACKed: the ACK waits for the confirmed state
	// to go out, lest the terminated replace it before the publisher takes it.
	waitFor(t, 5*time.Second, "confirmed published", func() bool { return len(fp.states(t, entity2)) >= 1 })
	u.send(u.ackFor(inv2, res))
	bye := u.request(5 * time.Second)
	u.respond(bye, 200, "OK")
	waitFor(t, 5*time.Second, "confirmed and terminated published", func() bool { return len(fp.states(t, entity2)) >= 2 })
	want = []string{"confirmed/recipient", "terminated/recipient"}
	if got := fp.states(t, entity2); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("published %q, want %q", got, want)
	}
	// Four publications answered 200 at once: counted under Event: dialog only.
	waitFor(t, 5*time.Second, "four PUBLISHes counted", func() bool { return e.srv.Stats().PublishBLF.OK == 4 })
	if st := e.srv.Stats(); st.PublishBLF != (publish.Stats{OK: 4}) || st.PublishMWI != (publish.Stats{}) || st.BLFDropped != 0 {
		t.Fatalf("PUBLISH stats: dialog %+v, message-summary %+v, dropped %d; want 4 ok dialog only",
			st.PublishBLF, st.PublishMWI, st.BLFDropped)
	}
	// Versions grow per entity: 0, 1 for each.
	fp.mu.Lock()
	defer fp.mu.Unlock()
	next := map[string]uint32{}
	for i, r := range fp.got {
		in, _ := dialoginfo.Parse(r.Body())
		if in.Version != next[in.Entity] {
			t.Errorf("PUBLISH %d for %s has version %d, want %d", i, in.Entity, in.Version, next[in.Entity])
		}
		next[in.Entity]++
	}
}
