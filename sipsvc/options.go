package sipsvc

import (
	"time"

	"github.com/emiago/sipgo/sip"
)

// handleOptions answers OPTIONS. Out of dialog (Kamailio's dispatcher keepalive,
// "OPTIONS sip:ip:port", any Request-URI) it answers 200 with Allow and Accept, or 503 while
// draining, at max-calls or in an overload episode (admission.go), so the dispatcher takes
// the node out of its pool. The transaction is terminated right after the answer: a UDP
// server transaction would otherwise be kept 32 s (~3.5 KB each at high probe rates). Inside a dialog it answers 200, 481 when the
// dialog is unknown, 500 for a stale CSeq. A Require naming any extension gets 420.
func (s *Server) handleOptions(req *sip.Request, tx sip.ServerTransaction) {
	defer tx.Terminate()
	if toTag(req) != "" {
		if s.inDialog(req, tx) != nil {
			s.respond(req, tx, sip.StatusOK, "", s.allowHeader(), acceptHeader(), s.fixed.supported)
		}
		return
	}
	if _, ok := s.trusted(req, tx); !ok {
		return
	}
	if s.refuseRequire(req, tx) {
		return
	}
	s.stats.options.Add(1)
	if s.draining.Load() {
		s.respond(req, tx, sip.StatusServiceUnavailable, "", retryAfter(retryAfterBusy))
		return
	}
	if s.admit.overloaded(time.Now()) {
		s.overloadRefused[refusedOptions].Add(1)
		s.respond(req, tx, sip.StatusServiceUnavailable, "", retryAfter(retryAfterBusy))
		return
	}
	s.respond(req, tx, sip.StatusOK, "", s.allowHeader(), acceptHeader())
}

// acceptHeader names the bodies the service reads.
func acceptHeader() sip.Header { return sip.NewHeader("Accept", "application/sdp") }
