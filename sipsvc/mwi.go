package sipsvc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/sidecar-voip/sidecar/config"
	"github.com/sidecar-voip/sidecar/mwi"
	"github.com/sidecar-voip/sidecar/mwi/subs"
	"github.com/sidecar-voip/sidecar/profile"
	"github.com/sidecar-voip/sidecar/publish"
	"github.com/sidecar-voip/sidecar/voicemail"
)

// mwiService is message-waiting indication for the mailboxes of the store: the subscription
// table, one watcher per mailbox that has subscriptions or was learned from a call's profile,
// and the learned table (mailbox -> where unsolicited NOTIFYs go).
//
// Every NOTIFY about one mailbox is sent under that mailbox's watcher's sendMu, which also
// covers the CSeq allocation: a subscription's NOTIFYs leave in CSeq order.
type mwiService struct {
	s     *Server
	cfg   config.MWI
	store voicemail.Store
	subs  *subs.Table
	ctx   context.Context // ends when the service stops: every watcher ends with it
	stop  context.CancelFunc

	mu       sync.Mutex
	watches  map[string]*mailboxWatch
	learned  map[string]*learnedBox
	learnSeq uint64

	// The NOTIFYs sent in a subscription's dialog and unsolicited, answered 2xx or failed
	// (unanswered, refused, or not sent: the mailbox could not be read).
	notifySent, notifyFailed, unsolicitedSent, unsolicitedFailed atomic.Uint64
}

// stats returns the MWI counters (zeros on a nil service: no mailbox store).
func (m *mwiService) stats() MWIStats {
	if m == nil {
		return MWIStats{}
	}
	return MWIStats{
		Subscriptions: m.subs.Len(),
		NotifySent:    m.notifySent.Load(), NotifyFailed: m.notifyFailed.Load(),
		UnsolicitedSent: m.unsolicitedSent.Load(), UnsolicitedFailed: m.unsolicitedFailed.Load(),
	}
}

// mailboxWatch is the watcher of one mailbox: a goroutine reading store.Watch.
type mailboxWatch struct {
	mailbox string
	cancel  context.CancelFunc
	refs    int // subscriptions + (1 when learned); guarded by mwiService.mu
	sendMu  sync.Mutex
}

// learnedBox is where a mailbox's unsolicited NOTIFYs go, learned from a call's profile.
type learnedBox struct {
	account string // the profile's location: R-URI, To and Message-Account
	dest    string // host:port the NOTIFY is sent to
	tp      string // its transport
	seq     uint64 // learn order, for forgetting the oldest
	w       *mailboxWatch
}

// newMWI returns the MWI service of s, nil without a store.
func newMWI(s *Server, store voicemail.Store, cfg config.MWI) *mwiService {
	if store == nil {
		return nil
	}
	ctx, stop := context.WithCancel(context.Background())
	return &mwiService{s: s, cfg: cfg, store: store, subs: subs.New(cfg.MaxSubscriptions), ctx: ctx, stop: stop,
		watches: map[string]*mailboxWatch{}, learned: map[string]*learnedBox{}}
}

// hold returns the mailbox's watcher, starting it if needed, with one more reference.
func (m *mwiService) hold(mailbox string) (*mailboxWatch, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.holdLocked(mailbox)
}

func (m *mwiService) holdLocked(mailbox string) (*mailboxWatch, error) {
	if w := m.watches[mailbox]; w != nil {
		w.refs++
		return w, nil
	}
	ctx, cancel := context.WithCancel(m.ctx)
	ch, err := m.store.Watch(ctx, mailbox)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("watch mailbox %s: %w", mailbox, err)
	}
	w := &mailboxWatch{mailbox: mailbox, cancel: cancel, refs: 1}
	m.watches[mailbox] = w
	go m.run(w, ch)
	return w, nil
}

// release drops a reference to w; the last one stops it.
func (m *mwiService) release(mailbox string, w *mailboxWatch) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.releaseLocked(mailbox, w)
}

func (m *mwiService) releaseLocked(mailbox string, w *mailboxWatch) {
	w.refs--
	if w.refs <= 0 && m.watches[mailbox] == w {
		delete(m.watches, mailbox)
		w.cancel()
	}
}

// watch returns a mailbox's watcher, nil when none runs.
func (m *mwiService) watch(mailbox string) *mailboxWatch {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.watches[mailbox]
}

// run reads a mailbox's counts until the watch ends. The first value is the state when the
// watch began (Watch gives it at once): whoever started the watch reports that state itself
// (the SUBSCRIBE's first NOTIFY), so it is skipped; every later value goes to every
// subscription of the mailbox, or, with none, as an unsolicited NOTIFY to the learned location.
func (m *mwiService) run(w *mailboxWatch, ch <-chan voicemail.Counts) {
	defer func() {
		if r := recover(); r != nil {
			m.s.stats.panics.Add(1)
			m.s.log.Error("MWI watcher panic", "mailbox", w.mailbox, "panic", r)
		}
	}()
	first := true
	for c := range ch {
		if first {
			first = false
			continue
		}
		log := m.s.log.With("mailbox", w.mailbox)
		ids := m.subs.ForMailbox(w.mailbox)
		for _, id := range ids {
			m.notifyCounts(w, id, c, log)
		}
		if len(ids) == 0 {
			m.sendUnsolicited(w.mailbox, c, log)
		}
		if m.cfg.Publish {
			m.publishState(w.mailbox, c, log)
		}
	}
}

// publishState PUBLISHes (Event: message-summary) a learned mailbox's counts for its
// location to the presence server ([presence] server, else where unsolicited NOTIFYs go).
func (m *mwiService) publishState(mailbox string, c voicemail.Counts, log *slog.Logger) {
	m.mu.Lock()
	b := m.learned[mailbox]
	var account, dest, tp string
	if b != nil {
		account, dest, tp = b.account, b.dest, b.tp
	}
	m.mu.Unlock()
	if b == nil {
		return
	}
	if srv := m.s.opts.Config.Presence.Server; srv != "" {
		var u sip.Uri
		if err := sip.ParseUri(srv, &u); err == nil {
			dest, tp = hostPort(u), "udp"
			if t, ok := u.UriParams.Get("transport"); ok && t != "" {
				tp = strings.ToLower(t)
			}
		}
	}
	body, err := summaryBody(account, c)
	if err != nil {
		log.Warn("MWI PUBLISH not built", "error", err)
		return
	}
	ctx, cancel := context.WithTimeout(m.ctx, notifyTimeout)
	defer cancel()
	err = m.s.blf.pub.Publish(ctx, publish.Publication{Entity: account, Event: mwi.Event, ContentType: mwi.ContentType,
		Body: body, Dest: dest, Transport: tp})
	if err != nil {
		log.Warn("MWI PUBLISH failed", "location", account, "error", err)
		return
	}
	log.Debug("MWI PUBLISH sent", "location", account)
}

// notifyOne sends a subscription its state now (after subscribe and refresh).
func (m *mwiService) notifyOne(w *mailboxWatch, id string, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(m.ctx, notifyTimeout)
	defer cancel()
	c, err := m.store.Counts(ctx, w.mailbox)
	if err != nil {
		m.notifyFailed.Add(1)
		log.Warn("MWI NOTIFY not sent: cannot read the mailbox", "error", err)
		return
	}
	m.notifyCounts(w, id, c, log)
}

// notifyCounts sends counts to one subscription, if it is still held.
func (m *mwiService) notifyCounts(w *mailboxWatch, id string, c voicemail.Counts, log *slog.Logger) {
	w.sendMu.Lock()
	defer w.sendMu.Unlock()
	sub, cseq, ok := m.subs.NextCSeq(id)
	if !ok {
		return
	}
	left := max(int(time.Until(sub.Expires).Round(time.Second)/time.Second), 0)
	ctx, cancel := context.WithTimeout(m.ctx, notifyTimeout)
	defer cancel()
	if code := m.sendCounts(ctx, sub, cseq, fmt.Sprintf("active;expires=%d", left), c, log); code == sip.StatusCallTransactionDoesNotExists {
		// The subscriber forgot the subscription (RFC 6665 4.1.3): so do we.
		if _, ok := m.subs.Remove(id); ok {
			log.Info("MWI subscription ended: NOTIFY answered 481")
			m.release(w.mailbox, w)
		}
	}
}

// terminate sends a removed subscription its final NOTIFY and drops its reference.
func (m *mwiService) terminate(sub subs.Sub, reason string, log *slog.Logger) {
	w := m.watch(sub.Mailbox)
	if w != nil {
		w.sendMu.Lock()
		defer m.release(sub.Mailbox, w)
		defer w.sendMu.Unlock()
	}
	m.send(m.ctx, sub, sub.CSeq+1, "terminated;reason="+reason, log)
}

// send sends sub its final NOTIFY with the mailbox's counts now.
func (m *mwiService) send(ctx context.Context, sub subs.Sub, cseq uint32, state string, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(ctx, notifyTimeout)
	defer cancel()
	c, err := m.store.Counts(ctx, sub.Mailbox)
	if err != nil {
		m.notifyFailed.Add(1)
		log.Warn("MWI NOTIFY not sent: cannot read the mailbox", "error", err)
		return
	}
	m.sendCounts(ctx, sub, cseq, state, c, log)
}

// sendCounts sends one in-dialog NOTIFY and returns the final status (0 when none came).
func (m *mwiService) sendCounts(ctx context.Context, sub subs.Sub, cseq uint32, state string, c voicemail.Counts, log *slog.Logger) int {
	body, err := summaryBody(sub.Account, c)
	if err != nil {
		m.notifyFailed.Add(1)
		log.Warn("MWI NOTIFY not sent", "error", err)
		return 0
	}
	req, err := inDialogNotify(sub.Dialog, cseq)
	if err != nil {
		m.notifyFailed.Add(1)
		log.Warn("MWI NOTIFY not sent", "error", err)
		return 0
	}
	addNotifyHeaders(req, state, body)
	req.AppendHeader(&sip.ContactHeader{Address: m.localContact(sub.Dialog.Transport)})
	res, err := m.s.client.Do(outbound(ctx), req, sipgo.ClientRequestAddVia)
	if err != nil {
		m.notifyFailed.Add(1)
		log.Warn("MWI NOTIFY failed", "error", err, "cseq", cseq)
		return 0
	}
	if res.StatusCode >= 300 {
		m.notifyFailed.Add(1)
		log.Info("MWI NOTIFY refused", "status", res.StatusCode, "cseq", cseq)
	} else {
		m.notifySent.Add(1)
		log.Debug("MWI NOTIFY sent", "state", state, "new", c.New, "old", c.Old)
	}
	return res.StatusCode
}

// inDialogNotify builds a NOTIFY inside a subscription's dialog (RFC 3261 12.2.1.1): the
// remote target as Request-URI, the route set as Route headers.
func inDialogNotify(d subs.Dialog, cseq uint32) (*sip.Request, error) {
	var target sip.Uri
	if err := sip.ParseUri(d.Target, &target); err != nil {
		return nil, fmt.Errorf("parse target %q: %w", d.Target, err)
	}
	var local, remote sip.Uri
	if err := sip.ParseUri(d.LocalURI, &local); err != nil {
		return nil, fmt.Errorf("parse local URI %q: %w", d.LocalURI, err)
	}
	if err := sip.ParseUri(d.RemoteURI, &remote); err != nil {
		return nil, fmt.Errorf("parse remote URI %q: %w", d.RemoteURI, err)
	}
	req := sip.NewRequest(sip.NOTIFY, target)
	for _, r := range d.RouteSet {
		var u sip.Uri
		if err := sip.ParseUri(r, &u); err != nil {
			return nil, fmt.Errorf("parse route %q: %w", r, err)
		}
		req.AppendHeader(&sip.RouteHeader{Address: u})
	}
	from := &sip.FromHeader{Address: local, Params: sip.NewParams()}
	from.Params.Add("tag", d.LocalTag)
	to := &sip.ToHeader{Address: remote, Params: sip.NewParams()}
	to.Params.Add("tag", d.RemoteTag)
	callID := sip.CallIDHeader(d.CallID)
	mf := sip.MaxForwardsHeader(70)
	req.AppendHeader(from)
	req.AppendHeader(to)
	req.AppendHeader(&callID)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: cseq, MethodName: sip.NOTIFY})
	req.AppendHeader(&mf)
	// The transport: the first route's, else the target's, else the SUBSCRIBE's.
	tp := d.Transport
	first := target
	if len(d.RouteSet) > 0 {
		_ = sip.ParseUri(d.RouteSet[0], &first)
	}
	if p, ok := first.UriParams.Get("transport"); ok && p != "" {
		tp = p
	}
	req.SetTransport(strings.ToUpper(tp))
	return req, nil
}

// addNotifyHeaders adds the message-summary event headers and the body.
func addNotifyHeaders(req *sip.Request, state string, body []byte) {
	req.AppendHeader(sip.NewHeader("Event", mwi.Event))
	req.AppendHeader(sip.NewHeader("Subscription-State", state))
	req.AppendHeader(sip.NewHeader("Content-Type", mwi.ContentType))
	req.SetBody(body)
}

// localContact is our Contact for requests we send on transport: the first listener of it.
func (m *mwiService) localContact(transport string) sip.Uri {
	tp := strings.ToLower(transport)
	for _, l := range m.s.Addrs() {
		if l.Transport == tp || tp == "" {
			u := sip.Uri{Scheme: "sip", Host: l.Addr.Addr().Unmap().String(), Port: int(l.Addr.Port())}
			if l.Transport != "udp" {
				u.UriParams = sip.NewParams()
				u.UriParams.Add("transport", l.Transport)
			}
			return u
		}
	}
	addrs := m.s.Addrs()
	if len(addrs) == 0 {
		return sip.Uri{Scheme: "sip", Host: "127.0.0.1"}
	}
	return sip.Uri{Scheme: "sip", Host: addrs[0].Addr.Addr().Unmap().String(), Port: int(addrs[0].Addr.Port())}
}

// sweep ends the subscriptions that expired by now: each gets its final NOTIFY.
func (m *mwiService) sweep(now time.Time) {
	for _, sub := range m.subs.Expired(now) {
		log := m.s.log.With("call_id", sub.Dialog.CallID, "mailbox", sub.Mailbox)
		log.Info("MWI subscription expired")
		m.terminate(sub, "timeout", log)
	}
}

// mwiSweepEvery is how often expired subscriptions are looked for.
const mwiSweepEvery = time.Second

// serve runs the expiry sweep until ctx ends, then stops every watcher.
func (m *mwiService) serve(ctx context.Context) {
	t := time.NewTicker(mwiSweepEvery)
	defer t.Stop()
	defer m.stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			m.sweep(now)
		}
	}
}

// learn records, from a call's profile with mwi = yes, a mailbox and where its unsolicited
// NOTIFYs go: [mwi] proxy, else the address the call came from. The table is bounded by
// max-mailboxes: the least recently learned mailbox is forgotten first.
func (m *mwiService) learn(p *profile.Profile, src netip.AddrPort, transport string) {
	if m == nil || p == nil || !p.MWI || p.MailboxID == "" || p.Location == "" || !voicemail.ValidMailbox(p.MailboxID) {
		return
	}
	dest, tp := src.String(), strings.ToLower(transport)
	if m.cfg.Proxy != "" {
		var u sip.Uri
		if err := sip.ParseUri(m.cfg.Proxy, &u); err == nil {
			dest, tp = hostPort(u), "udp"
			if t, ok := u.UriParams.Get("transport"); ok && t != "" {
				tp = strings.ToLower(t)
			}
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.learnSeq++
	if b := m.learned[p.MailboxID]; b != nil {
		b.account, b.dest, b.tp, b.seq = p.Location, dest, tp, m.learnSeq
		return
	}
	if len(m.learned) >= m.cfg.MaxMailboxes {
		var oldest string
		var seq uint64 = ^uint64(0)
		for mb, b := range m.learned {
			if b.seq < seq {
				oldest, seq = mb, b.seq
			}
		}
		b := m.learned[oldest]
		delete(m.learned, oldest)
		m.releaseLocked(oldest, b.w)
	}
	w, err := m.holdLocked(p.MailboxID)
	if err != nil {
		m.s.log.Warn("MWI: cannot watch a learned mailbox", "mailbox", p.MailboxID, "error", err)
		return
	}
	m.learned[p.MailboxID] = &learnedBox{account: p.Location, dest: dest, tp: tp, seq: m.learnSeq, w: w}
}

// hostPort is a URI's host:port (5060 when it has none).
func hostPort(u sip.Uri) string {
	port := u.Port
	if port == 0 {
		port = 5060
	}
	h := u.Host
	if strings.Contains(h, ":") && !strings.HasPrefix(h, "[") {
		h = "[" + h + "]"
	}
	return fmt.Sprintf("%s:%d", h, port)
}

// sendUnsolicited sends an out-of-dialog NOTIFY (Subscription-State: active) with counts to
// the learned location of mailbox, through Kamailio, which looks the location up.
func (m *mwiService) sendUnsolicited(mailbox string, c voicemail.Counts, log *slog.Logger) {
	m.mu.Lock()
	b := m.learned[mailbox]
	var account, dest, tp string
	if b != nil {
		account, dest, tp = b.account, b.dest, b.tp
	}
	m.mu.Unlock()
	if b == nil {
		return
	}
	ctx, cancel := context.WithTimeout(m.ctx, notifyTimeout)
	defer cancel()
	if err := m.unsolicitedNotify(ctx, mailbox, account, dest, tp, c); err != nil {
		m.unsolicitedFailed.Add(1)
		log.Warn("unsolicited MWI NOTIFY failed", "location", account, "error", err)
		return
	}
	m.unsolicitedSent.Add(1)
	log.Info("unsolicited MWI NOTIFY sent", "location", account, "new", c.New, "old", c.Old)
}

// errRefused reports a request answered with a failure status.
var errRefused = errors.New("refused")

func (m *mwiService) unsolicitedNotify(ctx context.Context, mailbox, account, dest, tp string, c voicemail.Counts) error {
	body, err := summaryBody(account, c)
	if err != nil {
		return err
	}
	var ruri sip.Uri
	if err := sip.ParseUri(account, &ruri); err != nil {
		return fmt.Errorf("parse location %q: %w", account, err)
	}
	req := sip.NewRequest(sip.NOTIFY, ruri)
	local := m.localContact(tp)
	from := &sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: mailbox, Host: local.Host, Port: local.Port}, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(16))
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: ruri.Scheme, User: ruri.User, Host: ruri.Host, Port: ruri.Port}})
	callID := sip.CallIDHeader(sip.GenerateTagN(24) + "@sidecar")
	req.AppendHeader(&callID)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: 1, MethodName: sip.NOTIFY})
	mf := sip.MaxForwardsHeader(70)
	req.AppendHeader(&mf)
	addNotifyHeaders(req, "active", body)
	req.AppendHeader(&sip.ContactHeader{Address: local})
	req.SetDestination(dest)
	req.SetTransport(strings.ToUpper(tp))
	res, err := m.s.client.Do(outbound(ctx), req, sipgo.ClientRequestAddVia)
	if err != nil {
		return err
	}
	if res.StatusCode >= 300 {
		return fmt.Errorf("%w: %d %s", errRefused, res.StatusCode, res.Reason)
	}
	return nil
}
