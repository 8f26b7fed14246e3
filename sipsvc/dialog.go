package sipsvc

import (
	"sync"

	"github.com/emiago/sipgo/sip"

	"github.com/sidecar-voip/sidecar/media"
	"github.com/sidecar-voip/sidecar/rtp/dtmf"
)

// dialogTable maps dialog ids (Call-ID, our tag, their tag) to live calls.
type dialogTable struct {
	mu sync.Mutex
	m  map[string]*call
}

func (t *dialogTable) add(id string, c *call) {
	t.mu.Lock()
	if t.m == nil {
		t.m = make(map[string]*call)
	}
	t.m[id] = c
	t.mu.Unlock()
}

func (t *dialogTable) remove(id string) {
	t.mu.Lock()
	delete(t.m, id)
	t.mu.Unlock()
}

// match returns the call an in-dialog request belongs to, nil when none.
func (t *dialogTable) match(req *sip.Request) *call {
	id, err := sip.DialogIDFromRequestUAS(req)
	if err != nil {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.m[id]
}

// handleAck confirms a dialog: the ACK of our 200 OK (ACKs of error answers are absorbed
// by their INVITE transaction inside sipgo). A late-offer call gets its SDP answer here.
// An ACK never gets an answer.
func (s *Server) handleAck(req *sip.Request, tx sip.ServerTransaction) {
	if _, ok := s.trusted(req, tx); !ok {
		return
	}
	c := s.dialogs.match(req)
	if c == nil {
		s.log.Debug("ACK for no dialog", "call_id", callIDOf(req))
		return
	}
	if err := c.dlg.ReadAck(req, tx); err != nil {
		c.log.Debug("ACK not for the current INVITE", "error", err)
		return
	}
	c.ackReceived(req)
}

// handleBye ends a call from the caller's side: 200 OK, the call's context is cancelled
// (the dialplan stops, media closes), and no BYE is sent back.
func (s *Server) handleBye(req *sip.Request, tx sip.ServerTransaction) {
	if _, ok := s.trusted(req, tx); !ok {
		return
	}
	c := s.dialogs.match(req)
	if c == nil {
		s.respond(req, tx, sip.StatusCallTransactionDoesNotExists, "")
		return
	}
	c.peerBye.Store(true)
	if err := c.dlg.ReadBye(req, tx); err != nil {
		c.log.Warn("BYE refused", "error", err)
		s.respond(req, tx, sip.StatusBadRequest, "")
		return
	}
	c.log.Debug("caller hung up")
	c.cancel(ErrPeerHangup)
}

// handleCancel answers a CANCEL that matches no pending INVITE (sipgo answers the ones that
// do: 200 to the CANCEL, 487 to the INVITE).
func (s *Server) handleCancel(req *sip.Request, tx sip.ServerTransaction) {
	if _, ok := s.trusted(req, tx); !ok {
		return
	}
	s.respond(req, tx, sip.StatusCallTransactionDoesNotExists, "")
}

// handleInfo answers INFO inside a dialog with 200 (DTMF over INFO is the media plane's
// business), and 481 outside one.
func (s *Server) handleInfo(req *sip.Request, tx sip.ServerTransaction) {
	if _, ok := s.trusted(req, tx); !ok {
		return
	}
	c := s.dialogs.match(req)
	if c == nil {
		s.respond(req, tx, sip.StatusCallTransactionDoesNotExists, "")
		return
	}
	ct := ""
	if h := req.ContentType(); h != nil {
		ct = h.Value()
	}
	if !dtmf.IsInfo(ct) {
		// INFO of another kind (or a bare keepalive INFO): accepted, nothing to do.
		s.respond(req, tx, sip.StatusOK, "")
		return
	}
	digit, dur, err := dtmf.ParseInfo(ct, req.Body())
	if err != nil {
		c.log.Warn("malformed DTMF INFO", "error", err)
		s.respond(req, tx, sip.StatusBadRequest, "Malformed DTMF")
		return
	}
	if sink, ok := c.Media().(media.DigitSink); ok {
		sink.InjectDTMF(digit, dur)
	}
	s.respond(req, tx, sip.StatusOK, "")
}

// handleOther answers every method the service does not handle: 481 inside a dialog that
// does not exist, else 405 Method Not Allowed with Allow.
func (s *Server) handleOther(req *sip.Request, tx sip.ServerTransaction) {
	if _, ok := s.trusted(req, tx); !ok {
		return
	}
	if toTag(req) != "" && s.dialogs.match(req) == nil {
		s.respond(req, tx, sip.StatusCallTransactionDoesNotExists, "")
		return
	}
	s.respond(req, tx, sip.StatusMethodNotAllowed, "", allowHeader())
}

// handleReInvite answers an INVITE inside a dialog: 200 OK with the media session's answer
// to the new offer (hold, resume, new address), or the current local SDP when the re-INVITE
// has no body. 481 for an unknown dialog, 491 for an INVITE overlapping another, and the
// media plane's status (488) for an offer it refuses.
func (s *Server) handleReInvite(req *sip.Request, tx sip.ServerTransaction) {
	c := s.dialogs.match(req)
	if c == nil {
		s.respond(req, tx, sip.StatusCallTransactionDoesNotExists, "")
		return
	}
	if err := c.dlg.ReadRequest(req, tx); err != nil {
		s.respond(req, tx, sip.StatusRequestPending, "")
		return
	}
	var body []byte
	if sess := c.Media(); sess != nil {
		if offer := req.Body(); len(offer) > 0 {
			answer, err := sess.SetRemote(offer)
			if err != nil {
				code, reason := statusOf(err, s.cfg.NoMatchCode)
				c.log.Warn("re-INVITE offer refused", "status", code, "error", err)
				s.respond(req, tx, code, reason)
				return
			}
			body = answer
		} else {
			body = sess.LocalSDP()
		}
	}
	res := sip.NewResponseFromRequest(req, sip.StatusOK, "OK", body)
	if len(body) > 0 {
		res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	}
	res.AppendHeader(sip.HeaderClone(&c.contact))
	s.decorate(res)
	if err := tx.Respond(res); err != nil {
		c.log.Warn("re-INVITE answer failed", "error", err)
		return
	}
	c.log.Info("re-INVITE accepted", "sdp", len(body) > 0)
}
