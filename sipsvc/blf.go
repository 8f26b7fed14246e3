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
	"github.com/sidecar-voip/sidecar/dialoginfo"
	"github.com/sidecar-voip/sidecar/publish"
)

// BLF: dialog state (RFC 4235) PUBLISHed (RFC 3903) to the presence server for the parties
// of a call whose profile says publish-dialog-info = yes. The entity (the monitored user) is
// the party itself: the caller (direction initiator) and the callee (direction recipient),
// identified by its address of record as Kamailio knows it: the From URI (caller) or the
// Request-URI (callee), without parameters. (A profile's location is where to reach the
// party, often with Kamailio's address as host: not the presentity.) A watcher subscribed to "Event: dialog" for that user at Kamailio sees the
// call's dialog go early, confirmed, terminated.
//
// The call's state machine tells every phase change to an observer (call.go) that only
// records it without blocking: each call's publication holds at most one pending state, the
// latest (a newer state replaces a pending one, a terminated is never replaced), and the
// calls with a pending state wait in a FIFO bounded by [presence] queue. blfWorkers workers
// publish, at most one PUBLISH in flight per call (RFC 3903: a modification carries the
// entity-tag of the previous answer), so a call's states go out in order, and a publisher
// that fell behind publishes only a call's latest state. A full queue drops the event
// (counted and logged), except a terminated for a call whose earlier state went out (bounded
// by the calls in progress): publishing never delays a call, and a lamp is never left busy.

// blfWorkers bounds the PUBLISH transactions in flight. At 5,000 calls/s 4 workers, never
// idle, published 0.63 of a call's 2 states. 16 published more (0.8-2.0 per call at 2,000-4,000
// calls/s on a shared, overloaded machine) but answered fewer calls in 4 of 4 A/B pairs at
// 4,000 calls/s, with kernel drops at the SIP socket in every 16-worker run (the extra
// PUBLISHes' answers arrive on that socket; 4-worker runs had drops too, in 4 of 8): when CPU
// is short, more PUBLISHes in flight take it from the calls. Not conclusive on that machine
// (BENCHMARKS.md), so 4 until measured quietly; keeping up needs cheaper PUBLISHes.
const blfWorkers = 4

// blfTerminatedExpires is the lifetime of a terminated dialog's publication: it is not
// refreshed and lapses at the server.
const blfTerminatedExpires = 60 * time.Second

// blfPublishTimeout bounds one publication.
const blfPublishTimeout = 10 * time.Second

// A presence target that does not answer a PUBLISH (no response within blfPublishTimeout:
// with [presence] server unset the PUBLISHes go to the caller's address, which may be a
// load generator or a peer that ignores them) is suspended: its events are dropped (counted)
// at the call's phase change instead of queueing behind one PUBLISH retransmitting for 10 s,
// for blfSuspendMin, doubling after every unanswered probe up to blfSuspendMax. After the
// suspension one event goes through as a probe; an answer (any, even an error response)
// resumes publishing. A target that answers is never suspended.
const (
	blfSuspendMin = 30 * time.Second
	blfSuspendMax = 10 * time.Minute
)

// blfQueueFullLogEvery spaces the "queue full" warnings (the first drop is logged at once).
const blfQueueFullLogEvery = 10 * time.Second

// blfService is the BLF publisher of a Server.
type blfService struct {
	s   *Server
	cfg config.Presence
	pub *publish.Client
	// serverDest and serverTransport are [presence] server parsed ("": none).
	serverDest, serverTransport string

	// qmu guards the queue: ready holds the calls with a pending state that no worker is
	// publishing (FIFO from head), npending counts the calls with a pending state (the
	// bound), and the pending fields of blfParties.
	qmu      sync.Mutex
	qcond    *sync.Cond
	ready    []*blfParties
	head     int
	npending int
	closed   bool

	// seqs are the entities' version sequences (seqMu).
	seqMu sync.Mutex
	seqs  map[string]*dialoginfo.Sequence

	dropped, published, failed, suspended, coalesced atomic.Uint64
	lastFullLog                                      atomic.Int64 // unix nanoseconds of the last "queue full" warning

	// quiet are the targets that did not answer (dest -> state); nQuiet is len(quiet), read
	// without the lock on every phase change.
	mu     sync.Mutex
	quiet  map[string]*blfQuiet
	nQuiet atomic.Int32
}

// blfQuiet is a presence target that did not answer.
type blfQuiet struct {
	until   time.Time     // events are dropped until then
	backoff time.Duration // the current suspension
	probing bool          // one event is on its way as a probe
	skipped uint64        // events dropped since the suspension began
}

// blfParty is one monitored party of a call.
type blfParty struct {
	entity, remote, direction string
}

// blfParties are what a call publishes for, set once routing found the profiles. A pending
// state holds the parties and the call's logger, not the call: a few hundred bytes
// reachable, not the whole finished call (request, profiles, media session).
type blfParties struct {
	parties  []blfParty
	dest, tp string // where PUBLISHes go
	callID   string
	fromTag  string

	// Guarded by blfService.qmu.
	pending string       // the state waiting to be published ("": none)
	final   int          // the final response code of a pending terminated
	log     *slog.Logger // the call's logger, with the pending state
	sent    string       // the last state handed to a worker
	busy    bool         // a worker is publishing it
}

func newBLF(s *Server, cfg config.Presence, log *slog.Logger) *blfService {
	b := &blfService{s: s, cfg: cfg, quiet: map[string]*blfQuiet{}, seqs: map[string]*dialoginfo.Sequence{}}
	b.qcond = sync.NewCond(&b.qmu)
	if cfg.Server != "" {
		// Parsed once, not per call; an unparsable server sends to the call's source, as
		// before.
		var u sip.Uri
		if err := sip.ParseUri(cfg.Server, &u); err == nil {
			b.serverDest, b.serverTransport = hostPort(u), "udp"
			if t, ok := u.UriParams.Get("transport"); ok && t != "" {
				b.serverTransport = strings.ToLower(t)
			}
		}
	}
	b.pub = publish.New(func(ctx context.Context, req *sip.Request) (*sip.Response, error) {
		return s.client.Do(outbound(ctx), req, sipgo.ClientRequestAddVia)
	}, publish.Config{Expires: cfg.Expires, Max: cfg.MaxPublications, Log: log})
	return b
}

// observer is the call's state machine observer: it maps phases to dialog states and
// enqueues them without blocking. It runs under the call's lock.
func (b *blfService) observer(c *call) func(from, to phase, final int) {
	return func(_, to phase, final int) {
		ps := c.blf.Load()
		if ps == nil {
			return
		}
		var state string
		switch to {
		case phaseEarly:
			state = dialoginfo.Early
		case phaseAnswered:
			state = dialoginfo.Confirmed
		case phaseEnding, phaseEnded:
			state = dialoginfo.Terminated
		default:
			return
		}
		if b.nQuiet.Load() > 0 && !b.admitQuiet(ps.dest, time.Now()) {
			return
		}
		b.enqueue(ps, state, final, c.logger())
	}
}

// enqueue records state as ps's pending state: it replaces a pending intermediate state
// (never a pending terminated), and a state already handed to a worker is not repeated.
// A call without a pending state takes a place in the queue, or is dropped (counted) when
// the queue is full, unless it is the terminated of a call whose earlier state went out.
func (b *blfService) enqueue(ps *blfParties, state string, final int, log *slog.Logger) {
	b.qmu.Lock()
	switch {
	case b.closed || ps.sent == dialoginfo.Terminated || ps.pending == dialoginfo.Terminated:
	case ps.pending != "":
		if ps.pending != state {
			ps.pending, ps.final, ps.log = state, final, log
			b.coalesced.Add(1)
		}
	case ps.sent == state:
	case b.npending >= max(b.cfg.Queue, 1) && (state != dialoginfo.Terminated || ps.sent == ""):
		b.qmu.Unlock()
		b.drop(ps.dest)
		return
	default:
		ps.pending, ps.final, ps.log = state, final, log
		b.npending++
		if !ps.busy {
			b.push(ps)
		}
	}
	b.qmu.Unlock()
}

// push appends ps to the ready FIFO and wakes a worker (qmu held).
func (b *blfService) push(ps *blfParties) {
	if b.head > 0 && b.head == len(b.ready) {
		b.ready, b.head = b.ready[:0], 0
	}
	b.ready = append(b.ready, ps)
	b.qcond.Signal()
}

// drop counts an event dropped for a full queue and warns at most every
// blfQueueFullLogEvery. A probe of a suspended target that was dropped is not on its way.
func (b *blfService) drop(dest string) {
	if b.nQuiet.Load() > 0 {
		b.mu.Lock()
		if q := b.quiet[dest]; q != nil {
			q.probing = false
		}
		b.mu.Unlock()
	}
	n := b.dropped.Add(1)
	now := time.Now().UnixNano()
	last := b.lastFullLog.Load()
	if (last == 0 || now-last >= int64(blfQueueFullLogEvery)) && b.lastFullLog.CompareAndSwap(last, now) {
		b.s.log.Warn("BLF event dropped: queue full", "queue", max(b.cfg.Queue, 1), "dropped", n)
	}
}

// admitQuiet says whether an event for dest may be queued: yes when dest is not suspended,
// or when its suspension is over and no probe is on its way (this event is the probe).
// Dropped events are counted.
func (b *blfService) admitQuiet(dest string, now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	q := b.quiet[dest]
	if q == nil {
		return true
	}
	if q.probing || now.Before(q.until) {
		q.skipped++
		b.suspended.Add(1)
		return false
	}
	q.probing = true
	return true
}

// answered records that dest answered a PUBLISH: a suspended target resumes.
func (b *blfService) answered(dest string) {
	if b.nQuiet.Load() == 0 {
		return
	}
	b.mu.Lock()
	q := b.quiet[dest]
	if q != nil {
		delete(b.quiet, dest)
		b.nQuiet.Store(int32(len(b.quiet)))
	}
	b.mu.Unlock()
	if q != nil {
		b.s.log.Info("BLF presence target answers again: publishing resumed", "dest", dest, "events_dropped", q.skipped)
	}
}

// unanswered records that dest did not answer a PUBLISH in time: it is suspended for
// blfSuspendMin, or twice its last suspension (at most blfSuspendMax) after a failed
// probe. The first suspension of a target is logged as a warning, later ones at debug.
func (b *blfService) unanswered(dest string, now time.Time) {
	b.mu.Lock()
	q := b.quiet[dest]
	first := q == nil
	if first {
		if len(b.quiet) >= max(b.cfg.MaxPublications, 1) {
			clear(b.quiet) // bounded; a target forgotten is simply tried again
		}
		q = &blfQuiet{backoff: blfSuspendMin}
		b.quiet[dest] = q
		b.nQuiet.Store(int32(len(b.quiet)))
	} else {
		q.backoff = min(2*q.backoff, blfSuspendMax)
	}
	q.until, q.probing = now.Add(q.backoff), false
	backoff, skipped := q.backoff, q.skipped
	b.mu.Unlock()
	if first {
		b.s.log.Warn("BLF presence target does not answer PUBLISH: publishing to it suspended (set [presence] server?)",
			"dest", dest, "timeout", blfPublishTimeout, "suspended_for", backoff)
		return
	}
	b.s.log.Debug("BLF presence target still silent", "dest", dest, "suspended_for", backoff, "events_dropped", skipped)
}

// silent says whether err means the target sent no answer at all (as opposed to an error
// response or a local failure).
func silent(err error) bool {
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, sip.ErrTransactionTimeout)
}

// learn records the parties of c that publish (profile publish-dialog-info = yes); the call
// publishes nothing when none does.
func (b *blfService) learn(c *call, src netip.AddrPort, transport string) {
	callerPub := c.caller != nil && c.caller.PublishDialogInfo
	calleePub := c.callee != nil && c.callee.PublishDialogInfo
	if !callerPub && !calleePub {
		return // nothing to publish: no URI texts built
	}
	var ps []blfParty
	req := c.sipReq
	from := uriText(req.From())
	ruri := (&sip.Uri{Scheme: "sip", User: req.Recipient.User, Host: req.Recipient.Host, Port: req.Recipient.Port}).String()
	if callerPub {
		ps = append(ps, blfParty{entity: from, remote: ruri, direction: dialoginfo.Initiator})
	}
	if calleePub {
		ps = append(ps, blfParty{entity: ruri, remote: from, direction: dialoginfo.Recipient})
	}
	dest, tp := b.serverDest, b.serverTransport
	if dest == "" {
		dest, tp = src.String(), strings.ToLower(transport)
	}
	c.blf.Store(&blfParties{parties: ps, dest: dest, tp: tp, callID: callIDOf(req), fromTag: fromTag(req)})
}

// uriText is a From or To header's URI without parameters.
func uriText(h interface{ Value() string }) string {
	if f, ok := h.(*sip.FromHeader); ok && f != nil {
		return (&sip.Uri{Scheme: "sip", User: f.Address.User, Host: f.Address.Host, Port: f.Address.Port}).String()
	}
	return ""
}

// serve publishes pending states with blfWorkers workers until ctx ends.
func (b *blfService) serve(ctx context.Context) {
	var wg sync.WaitGroup
	for range blfWorkers {
		wg.Go(func() { b.work(ctx) })
	}
	<-ctx.Done()
	b.qmu.Lock()
	b.closed = true
	b.qcond.Broadcast()
	b.qmu.Unlock()
	wg.Wait()
	b.pub.Close()
}

// work publishes the ready calls' pending states until the queue closes: it takes a call's
// pending state, publishes it, and puts the call back in the FIFO when a newer state came
// meanwhile.
func (b *blfService) work(ctx context.Context) {
	for {
		b.qmu.Lock()
		for b.head == len(b.ready) && !b.closed {
			b.qcond.Wait()
		}
		if b.closed {
			b.qmu.Unlock()
			return
		}
		ps := b.ready[b.head]
		b.ready[b.head] = nil
		b.head++
		state, final, log := ps.pending, ps.final, ps.log
		ps.pending, ps.log, ps.sent, ps.busy = "", nil, state, true
		b.npending--
		b.qmu.Unlock()

		b.publish(ctx, ps, state, final, log)

		b.qmu.Lock()
		ps.busy = false
		if ps.pending != "" && !b.closed {
			b.push(ps)
		}
		b.qmu.Unlock()
	}
}

// next returns entity's next document version.
func (b *blfService) next(entity string) uint32 {
	b.seqMu.Lock()
	defer b.seqMu.Unlock()
	seq := b.seqs[entity]
	if seq == nil {
		if len(b.seqs) >= 4*max(b.cfg.MaxPublications, 1) {
			clear(b.seqs) // bounded: versions restart, which RFC 4235 watchers take as a new document
		}
		seq = &dialoginfo.Sequence{}
		b.seqs[entity] = seq
	}
	return seq.Next()
}

// publish sends one state for every party of its call.
func (b *blfService) publish(ctx context.Context, ps *blfParties, state string, final int, log *slog.Logger) {
	defer func() {
		if r := recover(); r != nil {
			b.s.stats.panics.Add(1)
			b.s.log.Error("BLF publisher panic", "panic", r)
		}
	}()
	if b.nQuiet.Load() > 0 && b.stillQuiet(ps.dest, time.Now()) {
		return // suspended while this state waited in the queue
	}
	if log == nil {
		log = b.s.log
	}
	for _, p := range ps.parties {
		st := dialoginfo.State{Value: state}
		if state == dialoginfo.Terminated {
			switch {
			case final == 487:
				st.Event = "cancelled"
			case final >= 300:
				st.Event, st.Code = "rejected", final
			}
		}
		body, err := dialoginfo.Build(dialoginfo.Info{
			Version: b.next(p.entity), State: dialoginfo.Full, Entity: p.entity,
			Dialogs: []dialoginfo.Dialog{{
				ID: dialoginfo.DialogID(ps.callID, ps.fromTag, ""), CallID: ps.callID, Direction: p.direction,
				State:  st,
				Local:  &dialoginfo.Participant{Identity: &dialoginfo.Identity{URI: p.entity}},
				Remote: &dialoginfo.Participant{Identity: &dialoginfo.Identity{URI: p.remote}},
			}},
		})
		if err != nil {
			b.failed.Add(1)
			log.Warn("BLF PUBLISH not built", "entity", p.entity, "error", err)
			continue
		}
		pub := publish.Publication{Key: p.entity + "\x00" + ps.callID, Entity: p.entity, Event: dialoginfo.Event,
			ContentType: dialoginfo.ContentType, Body: body, Dest: ps.dest, Transport: ps.tp}
		if state == dialoginfo.Terminated {
			pub.Expires, pub.NoRefresh = blfTerminatedExpires, true
		}
		pctx, cancel := context.WithTimeout(ctx, blfPublishTimeout)
		err = b.pub.Publish(pctx, pub)
		cancel()
		if err != nil && silent(err) && ctx.Err() == nil {
			b.failed.Add(1)
			b.unanswered(ps.dest, time.Now())
			return // the call's other parties go to the same target
		}
		b.answered(ps.dest) // an answer, or a failure that is not the target's silence
		if err != nil {
			b.failed.Add(1)
			log.Warn("BLF PUBLISH failed", "entity", p.entity, "state", state, "error", err)
			continue
		}
		b.published.Add(1)
		log.Debug("BLF PUBLISH sent", "entity", p.entity, "state", state)
	}
}

// stillQuiet says whether dest is suspended (a queued event for it is dropped and counted);
// a queued probe passes.
func (b *blfService) stillQuiet(dest string, now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	q := b.quiet[dest]
	if q == nil || q.probing || !now.Before(q.until) {
		return false
	}
	q.skipped++
	b.suspended.Add(1)
	return true
}

// String describes the service's counters (for logs).
func (b *blfService) String() string {
	return fmt.Sprintf("published %d, failed %d, dropped %d, suspended %d, coalesced %d",
		b.published.Load(), b.failed.Load(), b.dropped.Load(), b.suspended.Load(), b.coalesced.Load())
}
