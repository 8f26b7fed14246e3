package sipsvc

import (
	"bytes"
	"math/rand/v2"
	"net/netip"
	"strconv"
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
// goes up when admission admits it at now, and is otherwise answered 503 with Retry-After here,
// statelessly, queued through reply (written with its batch), and not passed up. A retransmission of an INVITE admitted
// recently (same top Via branch) goes up to its transaction. The ACK of such a 503 (the
// refused INVITE's branch) is absorbed here: no transaction has it, and sipgo would parse
// it for nothing. backlog reads how full the socket's receive queue is. A refusal allocates
// nothing: the 503 is built in the batch's scratch space (reply.scratch).
func (s *Server) admitNewCall(src netip.AddrPort, b []byte, now, arrived time.Time,
	reply replyQueue, backlog *backlogGauge) bool {
	s.admit.socketWait(now, now.Sub(arrived))
	if isRequestOf(b, "ACK") {
		return !s.admit.wasRefused(b, arrived)
	}
	if !isRequestOf(b, "INVITE") || !s.live.Load().trusted.Allows(src) {
		return true // an untrusted INVITE (untrusted = reject) goes up for its 403: it takes no token
	}
	branch := viaBranch(b)
	if s.admit.seen(branch) {
		return true
	}
	var h inviteHead
	answerable := h.scan(b)
	if h.toTag {
		return true // in dialog (a re-INVITE): never refused here, takes no token
	}
	var fill float64
	if s.admit.shedsOnDelay() {
		fill = backlog.read()
	}
	ok, start, _ := s.admit.admitAt(now, arrived, fill)
	if ok {
		// Its wait counts in the queue delay only when the handler will see it: sipgo
		// drops a request without these headers without a word.
		s.admit.remember(branch, arrived, answerable)
		return true
	}
	if !answerable {
		return true // unanswerable here: sipgo answers 400 or drops it
	}
	s.admit.refusedBranch(branch, now)
	reply.queue(h.appendReply(reply.scratch(), s.cfg.UserAgent), src)
	s.stats.reject(sip.StatusServiceUnavailable)
	s.refuseOverload(refusedInvite, start, src)
	return false
}

// inviteHead is what the UDP filter reads of an INVITE's header section, without parsing
// it: the header lines a stateless answer copies (each with its folded continuation lines,
// without the final CRLF) and whether To has a tag.
type inviteHead struct {
	// via holds the first len(via) Via lines, moreVias the rest (rare: Kamailio adds one or
	// two), so a scan allocates nothing.
	via                    [inviteHeadVias][]byte
	nvia                   int
	moreVias               [][]byte
	from, to, callID, cseq []byte
	toTag                  bool
}

// inviteHeadVias is how many Via lines an inviteHead holds without allocating.
const inviteHeadVias = 6

// addVia notes one Via line.
func (h *inviteHead) addVia(line []byte) {
	if h.nvia < len(h.via) {
		h.via[h.nvia] = line
		h.nvia++
		return
	}
	h.moreVias = append(h.moreVias, line)
}

// scan reads datagram b's header section into h; it reports whether every header a
// stateless answer needs (Via, From, To, Call-ID, CSeq, in full or compact form) is there.
func (h *inviteHead) scan(b []byte) bool {
	end := bytes.Index(b, []byte("\r\n\r\n"))
	if end < 0 {
		return false
	}
	head := b[:end+2]
	eol := bytes.Index(head, []byte("\r\n"))
	if eol < 0 {
		return false
	}
	head = head[eol+2:] // past the request line
	for len(head) > 0 {
		// One header: its line and the continuation lines (starting with SP or HT).
		n := 0
		for {
			i := bytes.Index(head[n:], []byte("\r\n"))
			if i < 0 {
				return false
			}
			n += i + 2
			if n >= len(head) || (head[n] != ' ' && head[n] != '\t') {
				break
			}
		}
		line := head[:n-2]
		head = head[n:]
		name, _, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		name = bytes.TrimSpace(name)
		switch {
		case equalFoldASCII(name, "VIA") || equalFoldASCII(name, "V"):
			h.addVia(line)
		case equalFoldASCII(name, "FROM") || equalFoldASCII(name, "F"):
			h.from = line
		case equalFoldASCII(name, "TO") || equalFoldASCII(name, "T"):
			h.to = line
			h.toTag = indexFold(line, ";tag=") >= 0
		case equalFoldASCII(name, "CALL-ID") || equalFoldASCII(name, "I"):
			h.callID = line
		case equalFoldASCII(name, "CSEQ"):
			h.cseq = line
		}
	}
	return h.nvia > 0 && h.from != nil && h.to != nil && h.callID != nil && h.cseq != nil
}

// appendReply appends to b the stateless 503 Service Unavailable + Retry-After answering the
// scanned INVITE: its Via, From, To (with a random tag added), Call-ID and CSeq lines copied
// as they came, and Server: server when set. It allocates only when b lacks the room.
func (h *inviteHead) appendReply(b []byte, server string) []byte {
	b = append(b, "SIP/2.0 503 Service Unavailable\r\n"...)
	for _, v := range h.via[:h.nvia] {
		b = append(append(b, v...), "\r\n"...)
	}
	for _, v := range h.moreVias {
		b = append(append(b, v...), "\r\n"...)
	}
	b = append(append(b, h.from...), "\r\n"...)
	b = append(b, h.to...)
	if !h.toTag {
		b = appendTag(append(b, ";tag="...))
	}
	b = append(b, "\r\n"...)
	b = append(append(b, h.callID...), "\r\n"...)
	b = append(append(b, h.cseq...), "\r\n"...)
	if server != "" {
		b = append(append(append(b, "Server: "...), server...), "\r\n"...)
	}
	b = append(b, "Retry-After: "...)
	b = strconv.AppendInt(b, retryAfterBusy, 10)
	return append(b, "\r\nContent-Length: 0\r\n\r\n"...)
}

// appendTag appends a random To tag of 16 hexadecimal digits (64 random bits, as unlikely
// to repeat as sipgo's 16 letters) to b, without allocating.
func appendTag(b []byte) []byte {
	const hex = "0123456789abcdef"
	r := rand.Uint64()
	for range 16 {
		b = append(b, hex[r&15])
		r >>= 4
	}
	return b
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

// sentResponse is the UDP socket filter's look at each datagram the sidecar sends: a final
// response to an INVITE admitted over UDP ends its wait (admission.responded), when routing
// did not end it first (routedInvite). A provisional response does not: the 100 Trying goes
// out only for a call still unanswered 200 ms after its arrival (trying.go).
func (s *Server) sentResponse(b []byte) {
	if s.admit.waiting.Load() == 0 || len(b) < 12 || b[8] < '2' || !isResponseTo(b, "INVITE") {
		return
	}
	s.admit.responded(viaBranch(b), time.Now())
}

// routedInvite ends the wait of an INVITE admitted over UDP once its call is routed
// (identified, profiles built, dialplan chosen), the sidecar's own work before the dialplan
// runs: the queue delay is arrival to routing done. Called by the INVITE handler.
func (s *Server) routedInvite(req *sip.Request) {
	if s.admit.waiting.Load() == 0 || req.Transport() != "UDP" {
		return
	}
	if v := req.Via(); v != nil {
		if b, ok := v.Params.Get("branch"); ok {
			s.admit.responded([]byte(b), time.Now())
		}
	}
}

// inviteArrival is when req, a new INVITE, arrived: the socket's receive time the UDP filter
// kept for it (admission.remember), else now (TCP, TLS, or no longer remembered).
func (s *Server) inviteArrival(req *sip.Request) time.Time {
	if req.Transport() == "UDP" {
		if v := req.Via(); v != nil {
			if b, ok := v.Params.Get("branch"); ok {
				if at, ok := s.admit.arrival(b); ok {
					return at
				}
			}
		}
	}
	return time.Now()
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
