// Package publish is an RFC 3903 event state publication client: PUBLISH an entity's state
// to a presence server, keep the entity-tag (SIP-ETag) it answers, refresh the publication
// before it expires (SIP-If-Match, no body), modify it (SIP-If-Match with a body) and remove
// it (Expires: 0). A 412 Conditional Request Failed (the server forgot the entity-tag, e.g.
// after a restart) is answered by publishing afresh without SIP-If-Match; a 423 Interval Too
// Brief by retrying with the server's Min-Expires. Retries are bounded.
//
// A request too big for UDP (sipgo refuses datagrams over sip.UDPMTUSize-200 bytes) is sent
// over TCP to the same address instead; if that fails the error says so.
package publish

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"
)

// Errors.
var (
	// ErrFull reports a new publication past the client's bound.
	ErrFull = errors.New("publication table full")
	// ErrRefused reports a PUBLISH answered with a failure status (after the retries).
	ErrRefused = errors.New("PUBLISH refused")
	// ErrNoETag reports a 2xx without SIP-ETag.
	ErrNoETag = errors.New("PUBLISH answer without SIP-ETag")
	// ErrClosed reports use after Close.
	ErrClosed = errors.New("publish client closed")
)

// StatusConditionalRequestFailed is RFC 3903's 412.
const StatusConditionalRequestFailed = 412

// maxAttempts bounds the requests one operation sends (412 and 423 retries included).
const maxAttempts = 4

// DoFunc sends one request and returns its final response; (*sipgo.Client).Do fits, with
// sipgo.ClientRequestAddVia as the option since requests come fully built.
type DoFunc func(ctx context.Context, req *sip.Request) (*sip.Response, error)

// Config configures a Client.
type Config struct {
	// Expires is the lifetime asked for each publication (whole seconds).
	Expires time.Duration
	// Max bounds the publications held.
	Max int
	// Log receives what fails in the background (refreshes); nil discards it.
	Log *slog.Logger
}

// Publication is one piece of event state.
type Publication struct {
	// Key identifies the publication within the client (one entity-tag per key); empty
	// means Entity + Event.
	Key string
	// Entity is the presentity URI: the PUBLISH's Request-URI, From and To.
	Entity string
	// Event is the event package (dialog, message-summary).
	Event       string
	ContentType string
	Body        []byte
	// Dest is the presence server's host:port, Transport "udp", "tcp" or "tls".
	Dest, Transport string
	// Expires overrides Config.Expires when positive; NoRefresh lets the publication lapse
	// at the server instead of being refreshed (a final state, such as a terminated dialog).
	Expires   time.Duration
	NoRefresh bool
}

func (p Publication) key() string {
	if p.Key != "" {
		return p.Key
	}
	return p.Entity + "\x00" + p.Event
}

// Stats counts the operations (initial publication, modification, refresh, removal) on
// the publications of one event package, by how they ended.
type Stats struct {
	// OK counts operations answered 2xx at the first try (a 423 retry included).
	OK uint64
	// Recovered412 counts operations that got 412 (the server forgot the entity-tag) and
	// then succeeded by publishing afresh.
	Recovered412 uint64
	// Failed counts operations that failed: refused, unanswered, or past Config.Max.
	Failed uint64
}

// Client publishes; it is safe for concurrent use. Operations on one key are serialised.
type Client struct {
	do  DoFunc
	cfg Config
	log *slog.Logger

	mu     sync.Mutex
	pubs   map[string]*pub
	closed bool
	stats  map[string]Stats // by event package: as many entries as the caller's events
}

// pub is a held publication. mu serialises the operations on it.
type pub struct {
	mu      sync.Mutex
	p       Publication
	etag    string
	expires time.Duration // as granted
	timer   *time.Timer
	gone    bool
	// ent is p.Entity parsed (entOf: the text it was parsed from): a modification or refresh
	// of the same entity does not parse it again.
	ent   sip.Uri
	entOf string
}

// entity returns e.p.Entity parsed (e.mu held).
func (e *pub) entity() (sip.Uri, error) {
	if e.entOf != e.p.Entity || e.entOf == "" {
		var u sip.Uri
		if err := sip.ParseUri(e.p.Entity, &u); err != nil {
			return sip.Uri{}, fmt.Errorf("publish: entity %q: %w", e.p.Entity, err)
		}
		e.ent, e.entOf = u, e.p.Entity
	}
	return e.ent, nil
}

// New returns a Client that sends through do.
func New(do DoFunc, cfg Config) *Client {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Max < 1 {
		cfg.Max = 1
	}
	if cfg.Expires <= 0 {
		cfg.Expires = time.Hour
	}
	return &Client{do: do, cfg: cfg, log: cfg.Log, pubs: map[string]*pub{}, stats: map[string]Stats{}}
}

// Stats returns the counters of the operations on event's publications.
func (c *Client) Stats(event string) Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stats[event]
}

// count records how one operation on event ended.
func (c *Client) count(event string, recovered bool, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.stats[event]
	switch {
	case err != nil:
		st.Failed++
	case recovered:
		st.Recovered412++
	default:
		st.OK++
	}
	c.stats[event] = st
}

// Len is the number of publications held.
func (c *Client) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.pubs)
}

// ETag returns the entity-tag held for a key ("" when none).
func (c *Client) ETag(key string) string {
	c.mu.Lock()
	e := c.pubs[key]
	c.mu.Unlock()
	if e == nil {
		return ""
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.etag
}

// Publish publishes p: initially, or as a modification (SIP-If-Match with the body) of the
// publication held under the same key. The publication is then refreshed before it expires
// unless p.NoRefresh.
func (c *Client) Publish(ctx context.Context, p Publication) error {
	k := p.key()
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return ErrClosed
	}
	e := c.pubs[k]
	if e == nil {
		if len(c.pubs) >= c.cfg.Max {
			c.mu.Unlock()
			c.count(p.Event, false, ErrFull)
			return fmt.Errorf("publish %s %s: %w (%d)", p.Event, p.Entity, ErrFull, c.cfg.Max)
		}
		e = &pub{}
		c.pubs[k] = e
	}
	c.mu.Unlock()

	e.mu.Lock()
	defer e.mu.Unlock()
	e.p = p
	if e.timer != nil {
		e.timer.Stop()
	}
	want := p.Expires
	if want <= 0 {
		want = c.cfg.Expires
	}
	err := c.send(ctx, e, want, p.Body, true)
	if err != nil {
		if e.etag == "" {
			c.forget(k, e)
		}
		return err
	}
	if p.NoRefresh {
		c.forget(k, e)
		return nil
	}
	c.schedule(k, e)
	return nil
}

// Remove removes the publication held under key (Expires: 0 with SIP-If-Match) and forgets
// it; no error when none is held.
func (c *Client) Remove(ctx context.Context, key string) error {
	c.mu.Lock()
	e := c.pubs[key]
	c.mu.Unlock()
	if e == nil {
		return nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	c.forget(key, e)
	if e.etag == "" {
		return nil
	}
	return c.send(ctx, e, 0, nil, false)
}

// Close stops every refresh; publications lapse at the server.
func (c *Client) Close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	for k, e := range c.pubs {
		if e.timer != nil {
			e.timer.Stop()
		}
		delete(c.pubs, k)
	}
}

// forget drops e from the table (e.mu held).
func (c *Client) forget(key string, e *pub) {
	if e.timer != nil {
		e.timer.Stop()
	}
	e.gone = true
	c.mu.Lock()
	if c.pubs[key] == e {
		delete(c.pubs, key)
	}
	c.mu.Unlock()
}

// refreshAt is when a publication granted d is refreshed: at 80% of it, at least 5 s early
// when it allows.
func refreshAt(d time.Duration) time.Duration {
	r := d * 4 / 5
	if d-r < 5*time.Second && d > 10*time.Second {
		r = d - 5*time.Second
	}
	return max(r, time.Second)
}

// schedule arms e's refresh (e.mu held): the timer of a modified publication is re-armed,
// not made anew.
func (c *Client) schedule(key string, e *pub) {
	if e.timer != nil {
		e.timer.Reset(refreshAt(e.expires))
		return
	}
	e.timer = time.AfterFunc(refreshAt(e.expires), func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := c.refresh(ctx, key, e); err != nil {
			c.log.Warn("PUBLISH refresh failed", "entity", e.p.Entity, "event", e.p.Event, "error", err)
		}
	})
}

// refresh refreshes e: SIP-If-Match without a body; 412 publishes afresh with the last body.
func (c *Client) refresh(ctx context.Context, key string, e *pub) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.gone {
		return nil
	}
	want := e.p.Expires
	if want <= 0 {
		want = c.cfg.Expires
	}
	if err := c.send(ctx, e, want, nil, false); err != nil {
		c.forget(key, e)
		return err
	}
	c.schedule(key, e)
	return nil
}

// send runs one operation on e (e.mu held) and counts how it ended (Stats): body nil with
// e.etag set is a refresh, expires 0 a removal. A 412 restarts it as an initial publication
// (with e.p.Body when refreshing); a 423 retries with Min-Expires. withBody sends body even
// on a conditional request.
func (c *Client) send(ctx context.Context, e *pub, expires time.Duration, body []byte, withBody bool) error {
	var recovered bool
	err := c.exchange(ctx, e, expires, body, withBody, &recovered)
	c.count(e.p.Event, recovered, err)
	return err
}

// exchange is send's requests; it sets *recovered when a 412 made it publish afresh.
func (c *Client) exchange(ctx context.Context, e *pub, expires time.Duration, body []byte, withBody bool, recovered *bool) error {
	p := e.p
	for attempt := 1; ; attempt++ {
		if !withBody && e.etag == "" && expires > 0 {
			// Nothing to refresh: publish the state in full.
			body, withBody = p.Body, true
		}
		ent, err := e.entity()
		if err != nil {
			return err
		}
		req := build(p, ent, e.etag, expires, body, withBody)
		res, err := c.doSized(ctx, req, p, e.etag)
		if err != nil {
			return fmt.Errorf("publish %s %s: %w", p.Event, p.Entity, err)
		}
		switch {
		case res.StatusCode >= 200 && res.StatusCode < 300:
			if expires == 0 {
				e.etag = ""
				return nil
			}
			tag := res.GetHeader("SIP-ETag")
			if tag == nil || strings.TrimSpace(tag.Value()) == "" {
				return fmt.Errorf("publish %s %s: %w", p.Event, p.Entity, ErrNoETag)
			}
			e.etag = strings.TrimSpace(tag.Value())
			e.expires = expires
			if h := res.GetHeader("Expires"); h != nil {
				if n, err := strconv.Atoi(strings.TrimSpace(h.Value())); err == nil && n > 0 {
					e.expires = time.Duration(n) * time.Second
				}
			}
			return nil
		case attempt >= maxAttempts:
		case res.StatusCode == StatusConditionalRequestFailed && e.etag != "":
			c.log.Info("PUBLISH 412: the server forgot the entity-tag; publishing afresh", "entity", p.Entity, "event", p.Event)
			e.etag = ""
			*recovered = true
			if expires == 0 {
				return nil // nothing left to remove
			}
			body, withBody = p.Body, true
			continue
		case res.StatusCode == sip.StatusIntervalToBrief && expires > 0:
			if h := res.GetHeader("Min-Expires"); h != nil {
				if n, err := strconv.Atoi(strings.TrimSpace(h.Value())); err == nil && n > 0 &&
					time.Duration(n)*time.Second > expires {
					expires = time.Duration(n) * time.Second
					continue
				}
			}
		}
		return fmt.Errorf("publish %s %s: %w: %d %s", p.Event, p.Entity, ErrRefused, res.StatusCode, res.Reason)
	}
}

// doSized sends req over p's transport, or over TCP when it is too big for a UDP datagram.
func (c *Client) doSized(ctx context.Context, req *sip.Request, p Publication, etag string) (*sip.Response, error) {
	tp := strings.ToUpper(p.Transport)
	if tp == "" {
		tp = "UDP"
	}
	// The Via the client adds is ~80 bytes. A request whose upper bound fits is not rendered
	// to measure it (rendering cost as much as the rest of building it).
	if tp == "UDP" && sizeBound(req, p, etag) > sip.UDPMTUSize-200 {
		if n := len(req.String()); n+120 > sip.UDPMTUSize-200 {
			c.log.Debug("PUBLISH too big for UDP: sending over TCP", "entity", p.Entity, "bytes", n)
			tp = "TCP"
		}
	}
	req.SetDestination(p.Dest)
	req.SetTransport(tp)
	res, err := c.do(ctx, req)
	if err != nil && tp == "UDP" && errors.Is(err, sip.ErrUDPMTUCongestion) {
		fresh := req.Clone()
		fresh.RemoveHeader("Via")
		fresh.SetTransport("TCP")
		res, err = c.do(ctx, fresh)
		if err != nil {
			return nil, fmt.Errorf("too big for UDP, and over TCP: %w", err)
		}
	}
	return res, err
}

// sizeBound is at least the size of req (as build makes it) with the Via the client adds:
// the body, the entity three times (Request-URI, From, To), the values of the other headers
// (etag: the SIP-If-Match build was given) and 400 bytes for the names, the tags, the Call-ID
// and the Via.
func sizeBound(req *sip.Request, p Publication, etag string) int {
	return len(req.Body()) + 3*len(p.Entity) + len(p.Event) + len(p.ContentType) + len(etag) + 400
}

// build renders a PUBLISH to ent (p.Entity parsed; shared read-only by the request).
func build(p Publication, ent sip.Uri, etag string, expires time.Duration, body []byte, withBody bool) *sip.Request {
	req := sip.NewRequest(sip.PUBLISH, ent)
	aor := sip.Uri{Scheme: ent.Scheme, User: ent.User, Host: ent.Host, Port: ent.Port}
	from := &sip.FromHeader{Address: aor, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(16))
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: aor})
	callID := sip.CallIDHeader(sip.GenerateTagN(24) + "@sidecar")
	req.AppendHeader(&callID)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: 1, MethodName: sip.PUBLISH})
	mf := sip.MaxForwardsHeader(70)
	req.AppendHeader(&mf)
	// The body and its Content-Length, then the PUBLISH's own headers.
	if withBody && body != nil {
		req.SetBody(body)
	} else {
		req.SetBody(nil)
	}
	req.AppendHeader(sip.NewHeader("Event", p.Event))
	req.AppendHeader(sip.NewHeader("Expires", strconv.Itoa(int(expires/time.Second))))
	if etag != "" {
		req.AppendHeader(sip.NewHeader("SIP-If-Match", etag))
	}
	if withBody && body != nil {
		req.AppendHeader(sip.NewHeader("Content-Type", p.ContentType))
	}
	return req
}
