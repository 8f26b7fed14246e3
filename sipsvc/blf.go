package sipsvc

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
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
// enqueues into a bounded queue; one worker publishes. A full queue drops the event (counted
// and logged): publishing never delays a call.

// blfTerminatedExpires is the lifetime of a terminated dialog's publication: it is not
// refreshed and lapses at the server.
const blfTerminatedExpires = 60 * time.Second

// blfPublishTimeout bounds one publication.
const blfPublishTimeout = 10 * time.Second

// blfService is the BLF publisher of a Server.
type blfService struct {
	s     *Server
	cfg   config.Presence
	pub   *publish.Client
	queue chan blfEvent

	dropped, published, failed atomic.Uint64
}

// blfEvent is one phase change of a call that publishes.
type blfEvent struct {
	c     *call
	state string // dialoginfo.Early, Confirmed, Terminated
	final int
}

// blfParty is one monitored party of a call.
type blfParty struct {
	entity, remote, direction string
}

// blfParties are what a call publishes for, set once routing found the profiles.
type blfParties struct {
	parties   []blfParty
	dest, tp  string // where PUBLISHes go
	callID    string
	fromTag   string
	published string // last state published (worker only)
}

func newBLF(s *Server, cfg config.Presence, log *slog.Logger) *blfService {
	b := &blfService{s: s, cfg: cfg, queue: make(chan blfEvent, max(cfg.Queue, 1))}
	b.pub = publish.New(func(ctx context.Context, req *sip.Request) (*sip.Response, error) {
		return s.client.Do(outbound(ctx), req, sipgo.ClientRequestAddVia)
	}, publish.Config{Expires: cfg.Expires, Max: cfg.MaxPublications, Log: log})
	return b
}

// observer is the call's state machine observer: it maps phases to dialog states and
// enqueues them without blocking. It runs under the call's lock.
func (b *blfService) observer(c *call) func(from, to phase, final int) {
	return func(_, to phase, final int) {
		if c.blf.Load() == nil {
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
		select {
		case b.queue <- blfEvent{c: c, state: state, final: final}:
		default:
			if b.dropped.Add(1)%100 == 1 {
				b.s.log.Warn("BLF event dropped: queue full", "queue", cap(b.queue), "dropped", b.dropped.Load())
			}
		}
	}
}

// learn records the parties of c that publish (profile publish-dialog-info = yes); the call
// publishes nothing when none does.
func (b *blfService) learn(c *call, src netip.AddrPort, transport string) {
	var ps []blfParty
	req := c.sipReq
	from := uriText(req.From())
	ruri := (&sip.Uri{Scheme: "sip", User: req.Recipient.User, Host: req.Recipient.Host, Port: req.Recipient.Port}).String()
	if p := c.caller; p != nil && p.PublishDialogInfo {
		ps = append(ps, blfParty{entity: from, remote: ruri, direction: dialoginfo.Initiator})
	}
	if p := c.callee; p != nil && p.PublishDialogInfo {
		ps = append(ps, blfParty{entity: ruri, remote: from, direction: dialoginfo.Recipient})
	}
	if len(ps) == 0 {
		return
	}
	dest, tp := src.String(), strings.ToLower(transport)
	if b.cfg.Server != "" {
		var u sip.Uri
		if err := sip.ParseUri(b.cfg.Server, &u); err == nil {
			dest, tp = hostPort(u), "udp"
			if t, ok := u.UriParams.Get("transport"); ok && t != "" {
				tp = strings.ToLower(t)
			}
		}
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

// serve publishes queued events until ctx ends.
func (b *blfService) serve(ctx context.Context) {
	seqs := map[string]*dialoginfo.Sequence{}
	for {
		select {
		case <-ctx.Done():
			b.pub.Close()
			return
		case ev := <-b.queue:
			b.publish(ctx, ev, seqs)
		}
	}
}

// publish sends one event for every party of its call; a state already published (the
// ending and ended phases both mean terminated) is skipped.
func (b *blfService) publish(ctx context.Context, ev blfEvent, seqs map[string]*dialoginfo.Sequence) {
	defer func() {
		if r := recover(); r != nil {
			b.s.stats.panics.Add(1)
			b.s.log.Error("BLF publisher panic", "panic", r)
		}
	}()
	ps := ev.c.blf.Load()
	if ps == nil || ps.published == ev.state || ps.published == dialoginfo.Terminated {
		return
	}
	ps.published = ev.state
	if len(seqs) > 4*b.cfg.MaxPublications {
		clear(seqs) // bounded: versions restart, which RFC 4235 watchers take as a new document
	}
	log := ev.c.logger()
	for _, p := range ps.parties {
		seq := seqs[p.entity]
		if seq == nil {
			seq = &dialoginfo.Sequence{}
			seqs[p.entity] = seq
		}
		st := dialoginfo.State{Value: ev.state}
		if ev.state == dialoginfo.Terminated {
			switch {
			case ev.final == 487:
				st.Event = "cancelled"
			case ev.final >= 300:
				st.Event, st.Code = "rejected", ev.final
			}
		}
		body, err := dialoginfo.Build(dialoginfo.Info{
			Version: seq.Next(), State: dialoginfo.Full, Entity: p.entity,
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
		if ev.state == dialoginfo.Terminated {
			pub.Expires, pub.NoRefresh = blfTerminatedExpires, true
		}
		pctx, cancel := context.WithTimeout(ctx, blfPublishTimeout)
		err = b.pub.Publish(pctx, pub)
		cancel()
		if err != nil {
			b.failed.Add(1)
			log.Warn("BLF PUBLISH failed", "entity", p.entity, "state", ev.state, "error", err)
			continue
		}
		b.published.Add(1)
		log.Debug("BLF PUBLISH sent", "entity", p.entity, "state", ev.state)
	}
}

// String describes the service's counters (for logs).
func (b *blfService) String() string {
	return fmt.Sprintf("published %d, failed %d, dropped %d", b.published.Load(), b.failed.Load(), b.dropped.Load())
}
