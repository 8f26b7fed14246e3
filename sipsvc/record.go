package sipsvc

import (
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/sidecar-voip/sidecar/cdr"
	"github.com/sidecar-voip/sidecar/media"
	"github.com/sidecar-voip/sidecar/metrics"
	"github.com/sidecar-voip/sidecar/routing"
)

// outcome collects, as a call goes, what its call record and the metrics need: when the
// final answer left, what routing found, the media's codec and counters. The dialplan's
// goroutine writes most of it; the mutex covers the rest (media closed by a handler).
type outcome struct {
	mu         sync.Mutex
	final      time.Time // when the final answer (200 or error) was sent
	identifier string
	caller     string
	callee     string
	context    string
	exten      string
	codec      string
	rtp        *cdr.RTP
}

func (o *outcome) finalAt(t time.Time) {
	o.mu.Lock()
	if o.final.IsZero() {
		o.final = t
	}
	o.mu.Unlock()
}

// routed notes what routing found and observes the profiles' build times.
func (o *outcome) routed(rt *routing.Routing, m *metrics.Metrics) {
	if rt.Caller != nil {
		m.ObserveBuild("caller", rt.CallerBuild)
	}
	if rt.Callee != nil {
		m.ObserveBuild("callee", rt.CalleeBuild)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.identifier = rt.Match.Identifier
	o.caller, o.callee = rt.Match.Caller.Name, rt.Match.Callee.Name
	if rt.Caller != nil || rt.Callee != nil {
		o.context, o.exten = rt.Context, rt.Exten
	}
}

// mediaClosed notes the closed session's codec and counters and observes its jitter and
// loss.
func (o *outcome) mediaClosed(sess media.Session, m *metrics.Metrics) {
	codec := sess.Codec()
	var rtp *cdr.RTP
	if mc, ok := sess.(media.Counted); ok {
		n := mc.Counters()
		m.ObserveMedia(metrics.Media{Received: n.Received, Lost: n.Lost, Jitter: n.Jitter})
		rtp = &cdr.RTP{Sent: n.Sent, Received: n.Received, Lost: n.Lost,
			JitterMS: float64(n.Jitter.Microseconds()) / 1e3}
	}
	o.mu.Lock()
	o.codec, o.rtp = codec, rtp
	o.mu.Unlock()
}

// end observes the call's setup time and result and writes its record. apps are the
// dialplan steps without arguments (Trace.Brief): never a PIN.
func (o *outcome) end(c *call, final int, endedBy string, apps []string) {
	now := time.Now()
	m := c.s.opts.Metrics
	o.mu.Lock()
	defer o.mu.Unlock()
	answered := o.final
	if answered.IsZero() {
		answered = now // 487 after a CANCEL, answered by sipgo
	}
	if final >= 200 {
		m.ObserveSetup(final, answered.Sub(c.start))
	}
	m.CallEnded(o.context, metrics.ResultOf(final))
	if c.s.opts.Records == nil {
		return
	}
	r := &cdr.Record{
		Start: c.start.UTC(), End: now.UTC(), CallID: callIDOf(c.sipReq),
		Source: c.src.String(), Transport: c.sipReq.Transport(),
		Identifier: o.identifier, CallerTemplate: o.caller, CalleeTemplate: o.callee,
		Context: o.context, Exten: o.exten, Apps: apps, Status: final, EndedBy: endedBy,
		Codec: o.codec, RTP: o.rtp,
	}
	if final >= 200 && final < 300 {
		r.Answer = o.final.UTC()
	}
	c.s.opts.Records.Write(r)
}

// endedBy names who ended a call: caller (BYE), sidecar (our BYE), cancel (CANCEL, 487), or
// "" (an answer ended an unanswered call).
func endedBy(peerBye, byeSent bool, final int) string {
	switch {
	case peerBye:
		return "caller"
	case byeSent:
		return "sidecar"
	case final == sip.StatusRequestTerminated:
		return "cancel"
	}
	return ""
}
