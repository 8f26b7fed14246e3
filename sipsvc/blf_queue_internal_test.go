package sipsvc

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"

	"github.com/emiago/sipgo/sip"
	"github.com/sidecar-voip/sidecar/config"
	"github.com/sidecar-voip/sidecar/dialoginfo"
	"github.com/sidecar-voip/sidecar/publish"
)

// blfSent is one PUBLISH the fake presence server answered.
type blfSent struct {
	callID, entity, state string
	version               uint32
}

// blfRig is a blfService whose PUBLISHes go to an in-process answerer; gate, when set,
// holds every PUBLISH until a value arrives.
type blfRig struct {
	b    *blfService
	mu   sync.Mutex
	sent []blfSent
	done chan blfSent // every answered PUBLISH, for waiting on events
	gate chan struct{}
	// entered receives a value when a gated PUBLISH reaches the gate.
	entered chan struct{}
}

func newBLFRig(t *testing.T, queue int, gated bool) *blfRig {
	t.Helper()
	r := &blfRig{done: make(chan blfSent, 1000), entered: make(chan struct{}, 1000)}
	if gated {
		r.gate = make(chan struct{})
	}
	log := slog.New(slog.DiscardHandler)
	r.b = &blfService{s: &Server{log: log}, cfg: config.Presence{Queue: queue, MaxPublications: 100},
		quiet: map[string]*blfQuiet{}, seqs: map[string]*dialoginfo.Sequence{}}
	r.b.qcond = sync.NewCond(&r.b.qmu)
	r.b.pub = publish.New(func(ctx context.Context, req *sip.Request) (*sip.Response, error) {
		if r.gate != nil {
			r.entered <- struct{}{}
			select {
			case <-r.gate:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		in, err := dialoginfo.Parse(req.Body())
		if err != nil || len(in.Dialogs) != 1 {
			t.Errorf("PUBLISH body: %v\n%s", err, req.Body())
			return nil, fmt.Errorf("bad body")
		}
		s := blfSent{callID: in.Dialogs[0].CallID, entity: in.Entity, state: in.Dialogs[0].State.Value, version: in.Version}
		r.mu.Lock()
		r.sent = append(r.sent, s)
		r.mu.Unlock()
		r.done <- s
		res := sip.NewResponseFromRequest(req, 200, "OK", nil)
		res.AppendHeader(sip.NewHeader("SIP-ETag", "e"))
		res.AppendHeader(sip.NewHeader("Expires", "60"))
		return res, nil
	}, publish.Config{Max: 100, Log: log})
	return r
}

func (r *blfRig) start(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { r.b.serve(ctx); close(stopped) }()
	t.Cleanup(func() { cancel(); <-stopped })
}

func blfCall(id string) *blfParties {
	return &blfParties{parties: []blfParty{{entity: "sip:1001@example.com", remote: "sip:1002@example.com", direction: dialoginfo.Initiator}},
		dest: "127.0.0.1:1", tp: "udp", callID: id, fromTag: "t" + id}
}

// TestBLFInOrderUnderLowLoad: a publisher that keeps up publishes every state of a call, in
// order, with growing versions.
func TestBLFInOrderUnderLowLoad(t *testing.T) {
	r := newBLFRig(t, 10, false)
	r.start(t)
	ps := blfCall("c1")
	var got []blfSent
	for _, st := range []string{dialoginfo.Early, dialoginfo.Confirmed, dialoginfo.Terminated, dialoginfo.Terminated} {
		r.b.enqueue(ps, st, 0, nil)
		if st == dialoginfo.Terminated && len(got) == 3 {
			// The ended phase after the ending one: nothing more to send (enqueue decides
			// synchronously, and the worker marked terminated sent when it took it).
			r.b.qmu.Lock()
			pending, n := ps.pending, r.b.npending
			r.b.qmu.Unlock()
			if pending != "" || n != 0 {
				t.Errorf("a second terminated queued: pending %q, %d calls pending", pending, n)
			}
			break
		}
		got = append(got, <-r.done)
	}
	want := []string{dialoginfo.Early, dialoginfo.Confirmed, dialoginfo.Terminated}
	for i, s := range got {
		if s.state != want[i] || s.version != uint32(i) {
			t.Errorf("PUBLISH %d: %s version %d, want %s version %d", i, s.state, s.version, want[i], i)
		}
	}
	if r.b.coalesced.Load() != 0 || r.b.dropped.Load() != 0 {
		t.Errorf("coalesced %d dropped %d under low load", r.b.coalesced.Load(), r.b.dropped.Load())
	}
}

// TestBLFCoalescesBehind: while the publisher is behind, a call that went early, confirmed,
// terminated publishes only terminated (one queue place), with the entity's version still
// growing; a terminated is never replaced by an intermediate state.
func TestBLFCoalescesBehind(t *testing.T) {
	r := newBLFRig(t, 10, false)
	first, ps := blfCall("c0"), blfCall("c1")
	r.b.enqueue(first, dialoginfo.Confirmed, 0, nil)
	r.b.enqueue(ps, dialoginfo.Early, 0, nil)
	r.b.enqueue(ps, dialoginfo.Confirmed, 0, nil)
	r.b.enqueue(ps, dialoginfo.Terminated, 487, nil)
	r.b.enqueue(ps, dialoginfo.Confirmed, 0, nil) // late and out of order: ignored
	if r.b.npending != 2 {
		t.Fatalf("%d calls pending, want 2", r.b.npending)
	}
	r.start(t)
	a, b := <-r.done, <-r.done
	if a.callID != "c1" {
		a, b = b, a
	}
	if a.callID != "c1" || a.state != dialoginfo.Terminated || b.state != dialoginfo.Confirmed {
		t.Errorf("published %+v and %+v, want c1 terminated and c0 confirmed", a, b)
	}
	if a.version == b.version || max(a.version, b.version) != 1 {
		t.Errorf("versions %d and %d, want 0 and 1", a.version, b.version)
	}
	if got := r.b.coalesced.Load(); got != 2 {
		t.Errorf("coalesced %d, want 2", got)
	}
}

// TestBLFFullQueueKeepsTerminated: a full queue drops a new call's state (counted), but
// the terminated of a call whose earlier state went out always gets through. Every worker
// is first held at the gate with a call of its own, so nothing leaves the queue while the
// test fills it (an idle worker would take the queued call and free its place).
func TestBLFFullQueueKeepsTerminated(t *testing.T) {
	r := newBLFRig(t, 1, true)
	r.start(t)
	var held []*blfParties
	for i := range blfWorkers {
		ps := blfCall(fmt.Sprint("busy", i))
		held = append(held, ps)
		r.b.enqueue(ps, dialoginfo.Confirmed, 0, nil) // taken by a worker, held at the gate
		<-r.entered
	}
	busy, other, late := held[0], blfCall("other"), blfCall("late")
	r.b.enqueue(other, dialoginfo.Early, 0, nil)       // the one place
	r.b.enqueue(late, dialoginfo.Early, 0, nil)        // full: dropped
	r.b.enqueue(late, dialoginfo.Terminated, 0, nil)   // nothing of it went out: dropped
	r.b.enqueue(busy, dialoginfo.Terminated, 200, nil) // its confirmed went out: kept
	if got := r.b.dropped.Load(); got != 2 {
		t.Errorf("dropped %d, want 2", got)
	}
	got := map[string]string{}
	for range blfWorkers + 2 {
		r.gate <- struct{}{}
		s := <-r.done
		if got[s.callID] == dialoginfo.Terminated {
			t.Errorf("%s published %s after terminated", s.callID, s.state)
		}
		got[s.callID] = s.state
	}
	if got[busy.callID] != dialoginfo.Terminated || got["other"] != dialoginfo.Early || got["late"] != "" {
		t.Errorf("published %v, want %s terminated, other early, late nothing", got, busy.callID)
	}
	for _, ps := range held[1:] {
		if got[ps.callID] != dialoginfo.Confirmed {
			t.Errorf("published %v, want %s confirmed", got, ps.callID)
		}
	}
}

// TestBLFWorkersKeepPerCallOrder: many calls through several workers: each call's states
// arrive in order with growing versions, each ends terminated, and no more than one PUBLISH
// per call is in flight (the publish client serialises a key; the order shows it).
func TestBLFWorkersKeepPerCallOrder(t *testing.T) {
	r := newBLFRig(t, 1000, false)
	r.start(t)
	const calls = 200
	for i := range calls {
		ps := blfCall(fmt.Sprint(i))
		r.b.enqueue(ps, dialoginfo.Early, 0, nil)
		r.b.enqueue(ps, dialoginfo.Confirmed, 0, nil)
		r.b.enqueue(ps, dialoginfo.Terminated, 0, nil)
	}
	rank := map[string]int{dialoginfo.Early: 0, dialoginfo.Confirmed: 1, dialoginfo.Terminated: 2}
	last := map[string]blfSent{}
	ended := 0
	for ended < calls {
		s := <-r.done
		if p, ok := last[s.callID]; ok && (rank[s.state] <= rank[p.state] || s.version <= p.version) {
			t.Fatalf("call %s: %s v%d after %s v%d", s.callID, s.state, s.version, p.state, p.version)
		}
		last[s.callID] = s
		if s.state == dialoginfo.Terminated {
			ended++
		}
	}
	if r.b.dropped.Load() != 0 {
		t.Errorf("dropped %d", r.b.dropped.Load())
	}
}
