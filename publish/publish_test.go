package publish

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// presenceServer is a sipgo UAS answering PUBLISH as RFC 3903 says: new entity-tags for
// initial publications, 412 for an unknown SIP-If-Match, 423 under its minimum.
type presenceServer struct {
	addr string

	mu         sync.Mutex
	etags      map[string]string // etag -> body
	n          int
	minExpires int
	got        []*sip.Request
}

func startPresence(t *testing.T, transport string) *presenceServer {
	t.Helper()
	ua, err := sipgo.NewUA()
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sipgo.NewServer(ua)
	if err != nil {
		t.Fatal(err)
	}
	ps := &presenceServer{etags: map[string]string{}}
	srv.OnPublish(func(req *sip.Request, tx sip.ServerTransaction) {
		ps.mu.Lock()
		defer ps.mu.Unlock()
		ps.got = append(ps.got, req.Clone())
		exp, _ := strconv.Atoi(req.GetHeader("Expires").Value())
		if exp > 0 && exp < ps.minExpires {
			res := sip.NewResponseFromRequest(req, 423, "Interval Too Brief", nil)
			res.AppendHeader(sip.NewHeader("Min-Expires", strconv.Itoa(ps.minExpires)))
			tx.Respond(res)
			return
		}
		body := string(req.Body())
		if m := req.GetHeader("SIP-If-Match"); m != nil {
			old, ok := ps.etags[m.Value()]
			if !ok {
				tx.Respond(sip.NewResponseFromRequest(req, 412, "Conditional Request Failed", nil))
				return
			}
			delete(ps.etags, m.Value())
			if body == "" {
				body = old
			}
			if exp == 0 {
				tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
				return
			}
		} else if body == "" {
			tx.Respond(sip.NewResponseFromRequest(req, 400, "Bad Request", nil))
			return
		}
		ps.n++
		tag := fmt.Sprintf("e%d", ps.n)
		ps.etags[tag] = body
		res := sip.NewResponseFromRequest(req, 200, "OK", nil)
		res.AppendHeader(sip.NewHeader("SIP-ETag", tag))
		res.AppendHeader(sip.NewHeader("Expires", strconv.Itoa(exp)))
		tx.Respond(res)
	})
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(func() { cancel(); ua.Close() })
	var l net.Listener
	switch transport {
	case "tcp":
		l, err = net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ps.addr = l.Addr().String()
		go srv.ServeTCP(l)
	default:
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ps.addr = pc.LocalAddr().String()
		go srv.ServeUDP(pc)
	}
	_ = ctx
	return ps
}

// restart forgets every entity-tag, as Kamailio does when it restarts.
func (ps *presenceServer) restart() {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	ps.etags = map[string]string{}
}

func (ps *presenceServer) requests() []*sip.Request {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	return append([]*sip.Request(nil), ps.got...)
}

func (ps *presenceServer) body(etag string) (string, bool) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	b, ok := ps.etags[etag]
	return b, ok
}

func newClient(t *testing.T) *Client {
	t.Helper()
	ua, err := sipgo.NewUA()
	if err != nil {
		t.Fatal(err)
	}
	cl, err := sipgo.NewClient(ua)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ua.Close() })
	c := New(func(ctx context.Context, req *sip.Request) (*sip.Response, error) {
		return cl.Do(ctx, req, sipgo.ClientRequestAddVia)
	}, Config{Expires: 600 * time.Second, Max: 2})
	t.Cleanup(c.Close)
	return c
}

func pubFor(ps *presenceServer, tp, body string) Publication {
	return Publication{Entity: "sip:1001@sip.example.com", Event: "dialog", ContentType: "application/dialog-info+xml",
		Body: []byte(body), Dest: ps.addr, Transport: tp}
}

func header(r *sip.Request, name string) string {
	if h := r.GetHeader(name); h != nil {
		return h.Value()
	}
	return ""
}

func TestPublishLifecycle(t *testing.T) {
	ps := startPresence(t, "udp")
	c := newClient(t)
	ctx := context.Background()
	p := pubFor(ps, "udp", "<one/>")
	if err := c.Publish(ctx, p); err != nil {
		t.Fatal(err)
	}
	key := p.key()
	tag := c.ETag(key)
	if b, ok := ps.body(tag); !ok || b != "<one/>" {
		t.Fatalf("after the initial PUBLISH the server holds %q under %q", b, tag)
	}
	// Modify: SIP-If-Match and the new body.
	p.Body = []byte("<two/>")
	if err := c.Publish(ctx, p); err != nil {
		t.Fatal(err)
	}
	reqs := ps.requests()
	if m := header(reqs[1], "SIP-If-Match"); m != tag {
		t.Fatalf("modify SIP-If-Match %q, want %q", m, tag)
	}
	tag2 := c.ETag(key)
	// Refresh: SIP-If-Match, no body.
	c.pubs[key].timer.Stop()
	if err := c.refresh(ctx, key, c.pubs[key]); err != nil {
		t.Fatal(err)
	}
	reqs = ps.requests()
	last := reqs[len(reqs)-1]
	if header(last, "SIP-If-Match") != tag2 || len(last.Body()) != 0 || header(last, "Expires") != "600" {
		t.Fatalf("refresh: If-Match %q body %q Expires %q", header(last, "SIP-If-Match"), last.Body(), header(last, "Expires"))
	}
	if b, _ := ps.body(c.ETag(key)); b != "<two/>" {
		t.Fatalf("after refresh the server holds %q", b)
	}
	// Remove: Expires 0 with SIP-If-Match.
	tag3 := c.ETag(key)
	if err := c.Remove(ctx, key); err != nil {
		t.Fatal(err)
	}
	reqs = ps.requests()
	last = reqs[len(reqs)-1]
	if header(last, "Expires") != "0" || header(last, "SIP-If-Match") != tag3 {
		t.Fatalf("remove: Expires %q If-Match %q", header(last, "Expires"), header(last, "SIP-If-Match"))
	}
	if c.Len() != 0 {
		t.Fatalf("%d publications held after Remove", c.Len())
	}
	// Initial, modify, refresh, remove: four operations that succeeded at once.
	if st := c.Stats("dialog"); st != (Stats{OK: 4}) {
		t.Fatalf("Stats %+v, want 4 ok", st)
	}
}

func TestPublish412Afresh(t *testing.T) {
	ps := startPresence(t, "udp")
	c := newClient(t)
	ctx := context.Background()
	p := pubFor(ps, "udp", "<state/>")
	if err := c.Publish(ctx, p); err != nil {
		t.Fatal(err)
	}
	ps.restart()
	key := p.key()
	c.pubs[key].timer.Stop()
	if err := c.refresh(ctx, key, c.pubs[key]); err != nil {
		t.Fatalf("refresh after the server's restart: %v", err)
	}
	reqs := ps.requests()
	if len(reqs) != 3 {
		t.Fatalf("%d requests, want initial, refresh (412), fresh", len(reqs))
	}
	fresh := reqs[2]
	if header(fresh, "SIP-If-Match") != "" || string(fresh.Body()) != "<state/>" {
		t.Fatalf("after 412: If-Match %q body %q, want none and the state", header(fresh, "SIP-If-Match"), fresh.Body())
	}
	if b, ok := ps.body(c.ETag(key)); !ok || b != "<state/>" {
		t.Fatalf("server holds %q after the fresh PUBLISH", b)
	}
	// A modification after a restart recovers the same way.
	ps.restart()
	p.Body = []byte("<new/>")
	if err := c.Publish(ctx, p); err != nil {
		t.Fatal(err)
	}
	if b, _ := ps.body(c.ETag(key)); b != "<new/>" {
		t.Fatalf("server holds %q after modify + 412", b)
	}
	if st := c.Stats("dialog"); st != (Stats{OK: 1, Recovered412: 2}) {
		t.Fatalf("Stats %+v, want 1 ok and 2 recovered after 412", st)
	}
	if st := c.Stats("message-summary"); st != (Stats{}) {
		t.Fatalf("Stats of another event %+v, want none", st)
	}
}

func TestPublish423AndBounds(t *testing.T) {
	ps := startPresence(t, "udp")
	ps.minExpires = 900
	c := newClient(t)
	ctx := context.Background()
	p := pubFor(ps, "udp", "<x/>")
	if err := c.Publish(ctx, p); err != nil {
		t.Fatal(err)
	}
	reqs := ps.requests()
	if len(reqs) != 2 || header(reqs[1], "Expires") != "900" {
		t.Fatalf("after 423: %d requests, Expires %q, want a retry with 900", len(reqs), header(reqs[len(reqs)-1], "Expires"))
	}
	p2, p3 := p, p
	p2.Key, p3.Key = "b", "c"
	if err := c.Publish(ctx, p2); err != nil {
		t.Fatal(err)
	}
	if err := c.Publish(ctx, p3); !errors.Is(err, ErrFull) {
		t.Fatalf("third publication of 2: %v, want ErrFull", err)
	}
	if st := c.Stats("dialog"); st != (Stats{OK: 2, Failed: 1}) {
		t.Fatalf("Stats %+v, want 2 ok (one after 423) and 1 failed (full)", st)
	}
}

func TestPublishTooBigForUDP(t *testing.T) {
	ps := startPresence(t, "tcp") // listens on TCP only: a UDP datagram would get no answer
	c := newClient(t)
	p := pubFor(ps, "udp", "<big>"+strings.Repeat("x", 2000)+"</big>")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Publish(ctx, p); err != nil {
		t.Fatalf("a 2 KB PUBLISH: %v", err)
	}
	if got := ps.requests()[0].Transport(); got != "TCP" {
		t.Fatalf("sent over %s, want TCP", got)
	}
}
