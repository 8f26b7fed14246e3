package sipsvc

import (
	"net/netip"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/sidecar-voip/sidecar/request"
)

// untrustedLogEvery bounds the log lines about untrusted sources to one per interval; the
// Untrusted counter still counts every request.
const untrustedLogEvery = time.Second

// trusted runs the trust check, before any other work on a request. It is the second line
// of defence: the trust filter (filter.go) already discards untrusted datagrams and
// connections below sipgo and lets only requests meant for a 403 through. The source is the
// one the transport recorded (request.SourceOf), never a Via header; a request without one
// is untrusted. For a trusted source it returns the source and true. Otherwise it counts
// the request, answers 403 Forbidden (or nothing with untrusted = drop; never a digest
// challenge, and never anything to an ACK), ends the transaction at once so a flood holds
// no state, and returns false.
func (s *Server) trusted(req *sip.Request, tx sip.ServerTransaction) (netip.AddrPort, bool) {
	set := s.settings()
	src, err := request.SourceOf(req)
	if err == nil && set.trusted.Allows(src) {
		return src, true
	}
	if req.IsAck() {
		// Not counted here: the filter counts the untrusted ACKs it discards, and one
		// reaching a handler has nothing to answer.
		return src, false
	}
	s.stats.untrusted.Add(1)
	if ok, held := s.untrustedLog.allow(time.Now(), untrustedLogEvery); ok {
		s.log.Warn("untrusted source refused", "source", req.MessageData.Source(), "method", string(req.Method),
			"action", set.untrusted, "suppressed_since_last", held)
	}
	if set.reject {
		s.respond(req, tx, sip.StatusForbidden, "Forbidden")
	}
	if tx != nil {
		tx.Terminate()
	}
	return src, false
}
