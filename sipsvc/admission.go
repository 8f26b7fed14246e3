package sipsvc

import (
	"bytes"
	"sync"
	"time"
)

// Overload control. A new INVITE arriving over UDP is admitted or refused in the socket
// filter (trustPacketConn.ReadFrom), before sipgo parses it, creates a transaction or runs a
// handler: refused, it gets a stateless 503 with Retry-After written at once (overloadReply)
// and never goes up. Over TCP and TLS the same decision runs first thing in handleInvite.
// It refuses when every max-calls slot is taken or when the [sip] max-cps token bucket is
// empty. Out-of-dialog OPTIONS answer 503 while an overload episode lasts (a refusal in the
// last overloadHold), so Kamailio's dispatcher moves load elsewhere.

// overloadHold is how long after the last refusal the node still counts as overloaded (its
// OPTIONS answer 503, the episode is not over).
const overloadHold = time.Second

// recentInvites is how many admitted INVITE branches the filter remembers, so a UDP
// retransmission of an admitted INVITE (sent before the caller got its 100 Trying) goes up to
// its transaction instead of getting a 503. Bounded: at 4,000 new calls/s it covers 2 s,
// far more than the time to the 100 Trying of an admitted call.
const recentInvites = 8192

// admission is the cheap admission decision for new INVITEs: a token bucket of rate new
// calls per second (burst: a fifth of a second's worth, at least 1) and the in-flight call
// limit. Its clock is injected for tests.
type admission struct {
	mu      sync.Mutex
	rate    float64 // new INVITEs per second; 0 = no rate limit
	burst   float64
	tokens  float64
	last    time.Time // last refill
	refused time.Time // last refusal: the overload episode lasts overloadHold past it
	// rateRefused is the last refusal by the rate limit: OPTIONS answer 503 for overloadHold
	// past it (a refusal at max-calls holds only while every slot is taken).
	rateRefused time.Time
	episode     bool // an episode is running (logged once, at its start)
	inflight    func() bool

	recent    map[string]struct{}
	recentLog [recentInvites]string
	recentAt  int
}

// newAdmission returns an admission of rate new INVITEs per second (0: none) whose full()
// reports the in-flight limit reached (nil: none).
func newAdmission(rate int, full func() bool) *admission {
	a := &admission{inflight: full, recent: make(map[string]struct{}, recentInvites)}
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

// admit decides one new INVITE at now. It returns ok, and start true when this refusal opens
// an overload episode (the caller logs it once).
func (a *admission) admit(now time.Time) (ok, start bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.episode && now.Sub(a.refused) >= overloadHold {
		a.episode = false
	}
	ok = true
	if a.inflight != nil && a.inflight() {
		ok = false
	} else if a.rate > 0 {
		if !a.last.IsZero() {
			a.tokens = min(a.burst, a.tokens+now.Sub(a.last).Seconds()*a.rate)
		}
		a.last = now
		if a.tokens >= 1 {
			a.tokens--
		} else {
			ok = false
			a.rateRefused = now
		}
	}
	if ok {
		return true, false
	}
	a.refused = now
	start = !a.episode
	a.episode = true
	return false, start
}

// overloaded reports whether the node refuses new calls at now: every call slot is taken, or
// the rate limit refused one in the last overloadHold.
func (a *admission) overloaded(now time.Time) bool {
	if a.inflight != nil && a.inflight() {
		return true
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return !a.rateRefused.IsZero() && now.Sub(a.rateRefused) < overloadHold
}

// remember records an admitted INVITE's branch; seen reports whether branch was admitted
// recently (a retransmission).
func (a *admission) remember(branch []byte) {
	if len(branch) == 0 {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if old := a.recentLog[a.recentAt]; old != "" {
		delete(a.recent, old)
	}
	k := string(branch)
	a.recentLog[a.recentAt] = k
	a.recent[k] = struct{}{}
	a.recentAt = (a.recentAt + 1) % recentInvites
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

// viaBranch returns the branch parameter of the first Via header of datagram b ("" when
// none): the first "branch=" in the header section, which is the top Via's.
func viaBranch(b []byte) []byte {
	if end := bytes.Index(b, []byte("\r\n\r\n")); end >= 0 {
		b = b[:end]
	}
	i := indexFold(b, "branch=")
	if i < 0 {
		return nil
	}
	v := b[i+len("branch="):]
	n := 0
	for n < len(v) && v[n] != ';' && v[n] != ',' && v[n] != '\r' && v[n] != ' ' && v[n] != '\t' {
		n++
	}
	return v[:n]
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

// rateLimit is the configured rate (new INVITEs per second, 0: none).
func (a *admission) rateLimit() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return int(a.rate)
}
