package sipsvc

import (
	"bytes"
	"sync"
	"sync/atomic"
	"time"
)

// Overload control. A new INVITE arriving over UDP is admitted or refused in the socket
// filter (trustPacketConn.ReadFrom), before sipgo parses it, creates a transaction or runs a
// handler: refused, it gets a stateless 503 with Retry-After written at once (overloadReply)
// and never goes up. Over TCP and TLS the same decision runs in sipgo's pre-transaction hook
// (preTransaction), before sipgo creates a transaction: the 503 is written statelessly too.
// It refuses when every max-calls slot is taken, when the [sip] max-cps token bucket is
// empty, or when the node falls behind ([sip] max-queue-delay, below). Out-of-dialog OPTIONS
// answer 503 while an overload episode lasts (a refusal in the last overloadHold), so
// Kamailio's dispatcher moves load elsewhere.
//
// The queue delay needs no configured rate. For each new INVITE admitted over UDP the filter
// keeps its arrival time (the kernel's receive timestamp, SO_TIMESTAMPNS, so the wait in the
// socket's receive buffer counts) until the sidecar's own work on it is done: its call
// routed (Server.routedInvite, called by the INVITE handler) or a final response sent
// before that (trustPacketConn.WriteTo sees it). A provisional response does not end it:
// the 100 Trying goes out only for a call still unanswered 200 ms after its arrival
// (trying.go), and never for one the node is merely slow to start. The node sheds what it
// cannot start in time instead of queueing it, and aims below the setting, since the
// admitted calls' own latency must stay under it: with at least minQueue admitted INVITEs
// waiting (a queue, not one late datagram), a new INVITE is refused when the oldest admitted
// INVITE still waiting, or the new INVITE itself in the socket, has waited longer than
// max-queue-delay, or longer than half of it (queueTarget) with the queue above that half
// for as long as the setting (a standing queue, as CoDel tells one from a burst: a GC pause
// or a scheduling stall at a clean rate passes without a refusal), or, once another rule
// has refused (an episode), when the waiting INVITEs times the node's mean time per call
// (service) would hold the new one past an eighth of the setting (expectTarget); when the
// socket's receive
// queue is half full (backlogShed: the reader is behind, and the kernel drops what no longer
// fits) or when it and the socketRun datagrams read before it, a run that began at least the
// setting ago, each waited past half the setting there; when the
// INVITE waited in the socket past socketBehind times the setting; or when recent waits were
// late (lateFactor). The waits it keeps are bounded (recentInvites) and expire after
// pendingExpiry, so an INVITE the sidecar never answers (one sipgo drops) cannot hold the
// node in overload.

// overloadHold is how long after the last refusal the node still counts as overloaded (its
// OPTIONS answer 503, the episode is not over).
const overloadHold = 500 * time.Millisecond

// recentInvites is how many admitted INVITE branches the filter remembers, so a UDP
// retransmission of an admitted INVITE (sent before the caller got its 100 Trying) goes up to
// its transaction instead of getting a 503. Bounded: at 4,000 new calls/s it covers 2 s,
// far more than the time to the 100 Trying of an admitted call.
const recentInvites = 8192

// pendingExpiry is how long an admitted INVITE without a response counts as waiting; past
// it, it is presumed dropped (sipgo answers nothing to some malformed requests) and no
// longer holds the queue delay up.
const pendingExpiry = 500 * time.Millisecond

// minQueue is how many admitted INVITEs must be waiting for their first response before the
// queue delay refuses anything: one late INVITE (a GC pause, the process descheduled by a
// busy machine) is not a queue, and must not turn callers away at a low rate.
const minQueue = 8

// (admission.minQueue is minQueue; tests lower it.)

// Reasons for a refusal (admission.admit).
const (
	refusedFull  = "max-calls"
	refusedRate  = "max-cps"
	refusedDelay = "max-queue-delay"
)

// admittedInvite is one admitted INVITE: its top Via branch, its arrival time, and whether
// the sidecar has responded to it.
type admittedInvite struct {
	branch    string
	at        time.Time
	responded bool
}

// admission is the cheap admission decision for new INVITEs: a token bucket of rate new
// calls per second (burst: a fifth of a second's worth, at least 1), the in-flight call
// limit and the queue delay. Its clock is injected for tests.
type admission struct {
	mu       sync.Mutex
	rate     float64 // new INVITEs per second; 0 = no rate limit
	burst    float64
	tokens   float64
	last     time.Time     // last refill
	maxDelay time.Duration // 0: no queue-delay shedding
	minQueue int64         // waiting INVITEs needed before the delay refuses (minQueue)
	minLate  int           // late waits in the last windows that refuse (minQueue)
	refused  time.Time     // last refusal: the overload episode lasts overloadHold past it
	// shed is the last refusal by the rate limit or the queue delay: OPTIONS answer 503 for
	// overloadHold past it (a refusal at max-calls holds only while every slot is taken).
	shed     time.Time
	episode  bool   // an episode is running (logged once, at its start)
	reason   string // of the last refusal
	inflight func() bool

	// recent maps the branch of each INVITE admitted over UDP to its sequence number in log
	// (log[seq%recentInvites]); next is the next sequence number, head the oldest that may
	// still wait for a response. waiting counts the admitted INVITEs without a response.
	recent  map[string]uint64
	log     [recentInvites]admittedInvite
	next    uint64
	head    uint64
	waiting atomic.Int64

	delay delayStats

	// refusedBranches holds the branch of each INVITE refused over UDP (about the last
	// recentInvites), so the ACK of its 503 (same branch) is absorbed in the filter instead of
	// parsed by sipgo; lastRefusal (UnixNano) limits the look-ups to ackWindow after a refusal.
	refusedBranches *branchSet
	lastRefusal     atomic.Int64

	// lateRun counts the consecutive datagrams read whose wait in the socket passed half of
	// max-queue-delay (maxDelayNs, the setting readable without mu); see socketRun.
	lateRun    atomic.Int64
	maxDelayNs atomic.Int64
	// lateRunSince is when the current run of late datagrams began (UnixNano; see socketRun).
	lateRunSince atomic.Int64

	// aboveSince is when the queue delay last went above the target (max-queue-delay /
	// queueTarget) with at least minQueue waiting, zero while it is not; standFor is how long
	// it must stay there before it refuses (standing; tests lower it).
	aboveSince time.Time
	standFor   time.Duration

	// Late waits: how many measured waits exceeded maxDelay in the current lateWindow
	// (started at lateStart) and in the one before.
	lateStart         time.Time
	lateCur, latePrev int

	// service is the mean time the node takes per admitted INVITE while it has work (an
	// exponentially weighted mean of each one's done minus the later of its arrival and the
	// previous one's done: a busy node's time per call, idle time left out; see
	// serviceWeight); lastDone is the previous INVITE's done. The wait a new INVITE can
	// expect is the waiting INVITEs times service.
	service  time.Duration
	lastDone time.Time
}

// expectTarget: a new INVITE is refused when the wait it can expect (the waiting INVITEs
// times the mean time per call) is past max-queue-delay / expectTarget. An eighth, far
// under the half of queueTarget: the expectation is a mean, and the admitted calls' p99
// must stay under the setting through GC cycles and a throttled CPU (under a 3x flood on a
// quarter of a core, a half held the p99 at 120-130 ms, a quarter at 68-104 ms, an eighth
// at 88 ms with the same calls completed).
const expectTarget = 8

// serviceWeight is the weight of the latest sample in the mean service time (1/64: a mean
// over the last hundred or so calls, a fraction of a second under load).
const serviceWeight = 64

// socketBehind: a new INVITE that waited in the socket's buffer longer than socketBehind
// times max-queue-delay is refused however few INVITEs wait: the reader is that far behind,
// which no single late wakeup explains, and what queues behind it in the buffer is lost
// when the buffer fills.
const socketBehind = 10

// lateFactor: a measured wait is late past lateFactor times max-queue-delay (500 ms at the
// default 100ms): routing on a busy node (a reload storm,
// a GC-heavy heap) often takes a few tens of milliseconds without any queue.
const lateFactor = 5

// queueTarget: a queue standing above max-queue-delay / queueTarget for as long as the
// setting refuses, so the admitted calls' waits, and their latency, stay below the setting
// rather than at it.
const queueTarget = 2

// backlogShed: a new INVITE is refused while the socket's receive queue holds at least this
// share of its buffer (SO_MEMINFO; Linux counts up to a quarter of the buffer in read
// datagrams not yet released, so half is at least a quarter really queued). A reader that
// far behind is seconds of traffic at a normal rate, about 50-100 ms at a flood's, and the
// kernel drops every datagram past the buffer: shed before the socket does.
const backlogShed = 0.5

// socketRun: a new INVITE that waited in the socket past half of max-queue-delay is refused
// when the last socketRun datagrams read (of any kind) each waited that long too, in a run
// that began at least max-queue-delay ago: a standing backlog in the socket (one stall, a
// GC pause or a reload storm's, makes a run of late datagrams that ends sooner).
const socketRun = 256

// lateWindow is the span over which late waits are counted: the measured waits of the last
// one to two windows refuse while at least minQueue of them were late.
const lateWindow = 100 * time.Millisecond

// delayStats summarises the measured waits (arrival to first response) of the INVITEs
// admitted over UDP.
type delayStats struct {
	n     uint64
	max   time.Duration
	total time.Duration
}

// newAdmission returns an admission of rate new INVITEs per second (0: none) whose full()
// reports the in-flight limit reached (nil: none), without queue-delay shedding (setMaxDelay).
func newAdmission(rate int, full func() bool) *admission {
	a := &admission{inflight: full, recent: make(map[string]uint64, recentInvites), minQueue: minQueue,
		minLate: minQueue, refusedBranches: newBranchSet(), standFor: -1}
	a.setRate(rate)
	return a
}

// setRate changes the rate (a reload); the bucket starts full.
func (a *admission) setRate(rate int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.rate == float64(rate) && !a.last.IsZero() {
		return
	}
	a.rate = float64(rate)
	a.burst = max(a.rate/5, 1)
	a.tokens = a.burst
	a.last = time.Time{}
}

// setMaxDelay changes the queue delay past which new INVITEs are refused (0: never).
func (a *admission) setMaxDelay(d time.Duration) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.maxDelay = d
	a.maxDelayNs.Store(int64(d))
}

// socketWait notes the wait d in the socket of one datagram read at now (see socketRun).
func (a *admission) socketWait(now time.Time, d time.Duration) {
	if m := a.maxDelayNs.Load(); m > 0 && int64(d) > m/queueTarget {
		if a.lateRun.Add(1) == 1 {
			a.lateRunSince.Store(now.UnixNano())
		}
	} else if a.lateRun.Load() != 0 {
		a.lateRun.Store(0)
	}
}

// standing returns how long the queue must stay above the target before it refuses: standFor
// when a test set it, else max-queue-delay itself. a.mu is held.
func (a *admission) standing() time.Duration {
	if a.standFor >= 0 {
		return a.standFor
	}
	return a.maxDelay
}

// delayRefusesLocked is the queue-delay decision for a new INVITE at now that arrived at the
// socket at arrived, while the socket's receive queue is backlog full. a.mu is held.
func (a *admission) delayRefusesLocked(now, arrived time.Time, backlog float64) bool {
	inSocket := now.Sub(arrived)
	if a.lateLocked(now) >= a.minLate || inSocket > socketBehind*a.maxDelay || backlog >= backlogShed {
		return true
	}
	target, stand := a.maxDelay/queueTarget, a.standing()
	if inSocket > target && a.lateRun.Load() >= socketRun && now.UnixNano()-a.lateRunSince.Load() >= int64(stand) {
		return true
	}
	if a.waiting.Load() < a.minQueue {
		a.aboveSince = time.Time{}
		return false
	}
	d := max(inSocket, a.queueDelayLocked(now))
	// The wait a new INVITE can expect is behind every admitted one still waiting, not the
	// oldest's alone: past the target it is refused, so admitting at a flood's rate while the
	// oldest is still young cannot queue more work than the target holds. Only within an
	// episode another rule opened (a refusal in the last overloadHold): a stall at a clean
	// rate (a reload storm, a GC-heavy heap) makes the time per call and the waiting count
	// look like a flood's for a moment, and must not refuse.
	shedding := !a.shed.IsZero() && now.Sub(a.shed) < overloadHold
	if expect := time.Duration(a.waiting.Load()) * a.service; shedding && inSocket+expect > a.maxDelay/expectTarget {
		return true
	}
	if d <= target {
		a.aboveSince = time.Time{}
		return false
	}
	if a.aboveSince.IsZero() {
		a.aboveSince = now
	}
	return d > a.maxDelay || now.Sub(a.aboveSince) >= stand
}

// admit decides one new INVITE at now that arrived now (over TCP or TLS). It returns ok, and
// start true when this refusal opens an overload episode (the caller logs it once).
func (a *admission) admit(now time.Time) (ok, start bool) {
	ok, start, _ = a.admitAt(now, now, 0)
	return ok, start
}

// admitAt decides one new INVITE at now that arrived at the socket at arrived, while the
// socket's receive queue is backlog full (0-1; 0 unknown). Refused, it also returns the
// reason (refusedFull, refusedRate, refusedDelay).
func (a *admission) admitAt(now, arrived time.Time, backlog float64) (ok, start bool, reason string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.episode && now.Sub(a.refused) >= overloadHold {
		a.episode = false
	}
	switch {
	case a.inflight != nil && a.inflight():
		reason = refusedFull
	case a.maxDelay > 0 && a.delayRefusesLocked(now, arrived, backlog):
		reason = refusedDelay
		a.shed = now
	case a.rate > 0:
		if !a.last.IsZero() {
			a.tokens = min(a.burst, a.tokens+now.Sub(a.last).Seconds()*a.rate)
		}
		a.last = now
		if a.tokens >= 1 {
			a.tokens--
		} else {
			reason = refusedRate
			a.shed = now
		}
	}
	if reason == "" {
		return true, false, ""
	}
	a.refused = now
	a.reason = reason
	start = !a.episode
	a.episode = true
	return false, start, reason
}

// overloaded reports whether the node refuses new calls at now: every call slot is taken, or
// the rate limit or the queue delay refused one in the last overloadHold.
func (a *admission) overloaded(now time.Time) bool {
	if a.inflight != nil && a.inflight() {
		return true
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return !a.shed.IsZero() && now.Sub(a.shed) < overloadHold
}

// remember records an admitted INVITE's branch and its arrival time at; waits reports
// whether the sidecar is expected to respond to it (a request it can answer: its wait for
// the first response counts in the queue delay). seen reports whether branch was admitted
// recently (a retransmission).
func (a *admission) remember(branch []byte, at time.Time, waits bool) {
	if len(branch) == 0 {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	e := &a.log[a.next%recentInvites]
	if e.branch != "" {
		if seq, ok := a.recent[e.branch]; ok && seq+recentInvites == a.next {
			delete(a.recent, e.branch)
		}
		if !e.responded {
			a.waiting.Add(-1)
		}
	}
	if a.next-a.head >= recentInvites {
		a.head = a.next - recentInvites + 1
	}
	k := string(branch)
	*e = admittedInvite{branch: k, at: at, responded: !waits}
	if waits {
		a.waiting.Add(1)
	}
	a.recent[k] = a.next
	a.next++
}

// ackWindow is how long after the last refusal ACKs are matched against the refused
// branches: the caller's ACK of a 503 comes within its transaction's lifetime (64*T1).
const ackWindow = 32 * time.Second

// refusedBranch records the branch of an INVITE refused over UDP at now.
func (a *admission) refusedBranch(branch []byte, now time.Time) {
	if len(branch) == 0 {
		return
	}
	a.mu.Lock()
	a.refusedBranches.add(branch)
	a.mu.Unlock()
	a.lastRefusal.Store(now.UnixNano())
}

// wasRefused reports whether the ACK datagram ack, at now, acknowledges a 503 of the filter
// (its top Via branch is one of an INVITE refused recently over UDP).
func (a *admission) wasRefused(ack []byte, now time.Time) bool {
	last := a.lastRefusal.Load()
	if last == 0 || now.UnixNano()-last > int64(ackWindow) {
		return false
	}
	branch := viaBranch(ack) // only within the window: the ACK of every call comes here
	if len(branch) == 0 {
		return false
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.refusedBranches.has(branch)
}

// arrival returns the arrival time remembered for the INVITE of branch (false: none).
func (a *admission) arrival(branch string) (time.Time, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	seq, ok := a.recent[branch]
	if !ok {
		return time.Time{}, false
	}
	return a.log[seq%recentInvites].at, true
}

func (a *admission) seen(branch []byte) bool {
	if len(branch) == 0 {
		return false
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	_, ok := a.recent[string(branch)]
	return ok
}

// responded records the sidecar's first response at now to the INVITE of branch, if it is
// one admitted over UDP and still waiting; it returns whether it was.
func (a *admission) responded(branch []byte, now time.Time) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	seq, ok := a.recent[string(branch)] // no allocation: the conversion is only a map key
	if !ok {
		return false
	}
	e := &a.log[seq%recentInvites]
	if e.responded {
		return false
	}
	e.responded = true
	a.waiting.Add(-1)
	d := now.Sub(e.at)
	start := e.at
	if a.lastDone.After(start) {
		start = a.lastDone
	}
	if svc := now.Sub(start); svc >= 0 {
		a.service += (svc - a.service) / serviceWeight
	}
	a.lastDone = now
	a.lateLocked(now)
	if a.maxDelay > 0 && d > lateFactor*a.maxDelay {
		a.lateCur++
	}
	a.delay.n++
	a.delay.total += d
	a.delay.max = max(a.delay.max, d)
	return true
}

// lateLocked rolls the late-wait windows to now and returns the late waits counted in the
// current and the previous window. a.mu is held.
func (a *admission) lateLocked(now time.Time) int {
	if since := now.Sub(a.lateStart); since >= lateWindow {
		a.latePrev = a.lateCur
		if since >= 2*lateWindow {
			a.latePrev = 0
		}
		a.lateCur = 0
		a.lateStart = now
	}
	return a.latePrev + a.lateCur
}

// queueDelayLocked is how long the oldest admitted INVITE still without a response has
// waited at now (0: none), ignoring the ones older than pendingExpiry. a.mu is held.
func (a *admission) queueDelayLocked(now time.Time) time.Duration {
	if a.waiting.Load() == 0 {
		a.head = a.next
		return 0
	}
	for ; a.head < a.next; a.head++ {
		e := &a.log[a.head%recentInvites]
		if e.responded {
			continue
		}
		d := now.Sub(e.at)
		if d <= pendingExpiry {
			return max(d, 0)
		}
		e.responded = true // presumed dropped: it no longer counts
		a.waiting.Add(-1)
	}
	return 0
}

// queueDelay is queueDelayLocked for callers without the lock.
func (a *admission) queueDelay(now time.Time) time.Duration {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.queueDelayLocked(now)
}

// delays returns the count, mean and maximum of the measured waits (arrival to first
// response) of the INVITEs admitted over UDP.
func (a *admission) delays() (n uint64, mean, most time.Duration) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.delay.n > 0 {
		mean = a.delay.total / time.Duration(a.delay.n)
	}
	return a.delay.n, mean, a.delay.max
}

// viaBranch returns the branch parameter of the first Via header of datagram b ("" when
// none): the first "branch=" (any case) in the header section, which is the top Via's. It
// looks only at the '=' signs (found with bytes.IndexByte) up to the first "branch=".
func viaBranch(b []byte) []byte {
	const name = "branch"
	for off := 0; ; {
		j := bytes.IndexByte(b[off:], '=')
		if j < 0 {
			return nil
		}
		i := off + j
		off = i + 1
		if i < len(name) || !hasPrefixFoldASCII(b[i-len(name):], name) {
			continue
		}
		if bytes.Contains(b[:i], []byte("\r\n\r\n")) {
			return nil // past the header section
		}
		v := b[i+1:]
		n := 0
		for n < len(v) && v[n] != ';' && v[n] != ',' && v[n] != '\r' && v[n] != ' ' && v[n] != '\t' {
			n++
		}
		return v[:n]
	}
}

// indexFold is bytes.Index ignoring ASCII case of the lower-case word w.
func indexFold(b []byte, w string) int {
	for i := 0; i+len(w) <= len(b); i++ {
		if hasPrefixFoldASCII(b[i:], w) {
			return i
		}
	}
	return -1
}

// lastReason is the reason of the last refusal (refusedRate ...).
func (a *admission) lastReason() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.reason
}

// rateLimit is the configured rate (new INVITEs per second, 0: none).
func (a *admission) rateLimit() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return int(a.rate)
}

// shedsOnDelay reports whether max-queue-delay is on (the socket's backlog is worth reading).
func (a *admission) shedsOnDelay() bool { return a.maxDelayNs.Load() > 0 }
