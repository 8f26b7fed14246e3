package sipsvc

import (
	"bytes"
	"net"
	"net/netip"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/sidecar-voip/sidecar/request"
)

// Indexes of Server.overloadRefused.
const (
	refusedInvite = iota
	refusedOptions
)

// admitNewCall is the overload check of the UDP socket filter, after the trust check: a
// datagram that is not a new INVITE goes up; a new INVITE (arrived at the socket at arrived)
// goes up when admission admits it, and is otherwise answered 503 with Retry-After here,
// statelessly, through send, and not passed up. A retransmission of an INVITE admitted
// recently (same top Via branch) goes up to its transaction.
func (s *Server) admitNewCall(src netip.AddrPort, b []byte, arrived time.Time,
	send func([]byte, net.Addr) (int, error)) bool {
	if !isRequestOf(b, "INVITE") || !s.live.Load().trusted.Allows(src) {
		return true // an untrusted INVITE (untrusted = reject) goes up for its 403: it takes no token
	}
	branch := viaBranch(b)
	if s.admit.seen(branch) {
		return true
	}
	ok, start, _ := s.admit.admitAt(time.Now(), arrived)
	var req *sip.Request
	if !ok || s.admit.delayed() {
		msg, err := sip.ParseMessage(b)
		if err != nil {
			return true // malformed: sipgo answers 400 or drops it
		}
		r, isReq := msg.(*sip.Request)
		if isReq && toTag(r) == "" && r.Via() != nil && r.CallID() != nil && r.CSeq() != nil &&
			r.From() != nil && r.To() != nil {
			req = r
		}
	}
	if ok {
		// Its wait for a first response counts in the queue delay only when the handler
		// will see it: sipgo drops some malformed requests without a word.
		s.admit.remember(branch, arrived, req != nil)
		return true
	}
	if req == nil {
		return true // in dialog (a re-INVITE) or unanswerable here: the handler decides
	}
	res := s.overloadResponse(req)
	if _, err := send([]byte(res.String()), net.UDPAddrFromAddrPort(src)); err != nil {
		s.log.Debug("overload 503 not sent", "source", src.String(), "error", err)
	}
	s.stats.reject(sip.StatusServiceUnavailable)
	s.refuseOverload(refusedInvite, start, src)
	return false
}

// preTransaction is the overload check of TCP and TLS, sipgo's pre-transaction hook
// (sip.WithTransactionLayerPreRequest, a sidecar patch): it runs on each request that matches
// no server transaction, before one is created. A new INVITE (no To tag) from a trusted source
// that admission refuses gets the stateless 503 + Retry-After it returns, written on the
// request's connection, and never makes a transaction or reaches a handler. Anything else
// (UDP, decided in the socket filter) returns nil and goes on.
func (s *Server) preTransaction(req *sip.Request) *sip.Response {
	if req.Method != sip.INVITE || req.Transport() == "UDP" || toTag(req) != "" {
		return nil
	}
	src, err := request.SourceOf(req)
	if err != nil || !s.live.Load().trusted.Allows(src) {
		return nil // the handler answers or drops it (trust.go)
	}
	ok, start := s.admit.admit(time.Now())
	if ok {
		return nil
	}
	s.stats.reject(sip.StatusServiceUnavailable)
	s.refuseOverload(refusedInvite, start, src)
	return s.overloadResponse(req)
}

// sentResponse is the UDP socket filter's look at each datagram the sidecar sends: the first
// response to an INVITE admitted over UDP ends its wait (admission.responded).
func (s *Server) sentResponse(b []byte) {
	if s.admit.waiting.Load() == 0 || !isResponseTo(b, "INVITE") {
		return
	}
	s.admit.responded(viaBranch(b), time.Now())
}

// QueueDelay reports the overload control's measurements of the new INVITEs admitted over
// UDP while max-queue-delay is on: how many got a first response, and the mean and the
// longest wait for it (from arrival at the socket).
func (s *Server) QueueDelay() (n uint64, mean, longest time.Duration) {
	return s.admit.delays()
}

// isResponseTo reports whether datagram b is a SIP response whose CSeq names method.
func isResponseTo(b []byte, method string) bool {
	if !hasPrefixFoldASCII(b, "SIP/2.0 ") {
		return false
	}
	if end := bytes.Index(b, []byte("\r\n\r\n")); end >= 0 {
		b = b[:end]
	}
	i := indexFold(b, "\ncseq:")
	if i < 0 {
		return false
	}
	v := b[i+len("\ncseq:"):]
	if j := bytes.IndexByte(v, '\r'); j >= 0 {
		v = v[:j]
	}
	v = bytes.TrimSpace(v)
	// "1 INVITE": the number, spaces, the method.
	k := bytes.LastIndexByte(v, ' ')
	return k >= 0 && equalFoldASCII(bytes.TrimSpace(v[k+1:]), method)
}

// overloadResponse is the 503 with Retry-After answering req while overloaded, copying its
// Via, From, To, Call-ID and CSeq (sip.NewResponseFromRequest) and adding a To tag.
func (s *Server) overloadResponse(req *sip.Request) *sip.Response {
	res := sip.NewResponseFromRequest(req, sip.StatusServiceUnavailable, "Service Unavailable", nil)
	if to := res.To(); to != nil {
		if _, ok := to.Params.Get("tag"); !ok {
			to.Params.Add("tag", sip.GenerateTagN(16))
		}
	}
	s.decorate(res)
	res.AppendHeader(retryAfter(retryAfterBusy))
	return res
}

// refuseOverload counts one request refused by overload control and, when start, logs the
// start of an overload episode (once per episode) with its reason.
func (s *Server) refuseOverload(which int, start bool, src netip.AddrPort) {
	s.overloadRefused[which].Add(1)
	if start {
		s.log.Warn("overload: refusing new calls with 503 until the rate falls", "reason", s.admit.lastReason(),
			"max_cps", s.admit.rateLimit(), "queue_delay", s.admit.queueDelay(time.Now()).String(), "max_calls", s.limit.max.Load(), "calls_active", s.limit.active.Load(),
			"source", src.String(), "refused_invites_total", s.overloadRefused[refusedInvite].Load())
	}
}

// isRequestOf reports whether datagram b starts with a request line of method (upper case,
// as sent; sipgo upper-cases methods, so the case is ignored here too).
func isRequestOf(b []byte, method string) bool {
	return len(b) > len(method) && b[len(method)] == ' ' && hasPrefixFoldASCII(b, method)
}
