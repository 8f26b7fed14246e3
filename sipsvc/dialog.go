package sipsvc

import (
	"mime"
	"net/netip"
	"sync"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/sidecar-voip/sidecar/rtp/dtmf"
)

// dialogTable maps dialog ids (Call-ID, our tag, their tag) to live calls, and the
// initial INVITE of each live call (Call-ID, their tag) to its call, so a retransmitted
// INVITE that arrives after the INVITE transaction ended is recognised (see invite.go).
type dialogTable struct {
	mu      sync.Mutex
	m       map[string]*call
	invites map[inviteID]*call
	uas     map[uaKey]*sipgo.DialogUA // one per listener address and transport (ua)
}

// uaKey names the listener a call arrived on: its local address (never a wildcard) and
// transport. There are as many as listeners.
type uaKey struct {
	local     netip.AddrPort
	transport string
}

// ua returns the dialog user agent of listener k, made by mk the first time.
func (t *dialogTable) ua(k uaKey, mk func() *sipgo.DialogUA) *sipgo.DialogUA {
	t.mu.Lock()
	defer t.mu.Unlock()
	if u := t.uas[k]; u != nil {
		return u
	}
	if t.uas == nil {
		t.uas = make(map[uaKey]*sipgo.DialogUA)
	}
	u := mk()
	t.uas[k] = u
	return u
}

// fromTag returns the tag of req's From header, "" when it has none.
func fromTag(req *sip.Request) string {
	if f := req.From(); f != nil {
		tag, _ := f.Params.Get("tag")
		return tag
	}
	return ""
}

// inviteID identifies a call's initial INVITE: its Call-ID and From tag (the request's own
// strings, not a concatenation made per lookup).
type inviteID struct{ callID, fromTag string }

func inviteKey(req *sip.Request) inviteID {
	return inviteID{callIDOf(req), fromTag(req)}
}

// addInvite records c as the live call started by the initial INVITE req.
func (t *dialogTable) addInvite(req *sip.Request, c *call) {
	t.mu.Lock()
	if t.invites == nil {
		t.invites = make(map[inviteID]*call)
	}
	t.invites[inviteKey(req)] = c
	t.mu.Unlock()
}

// removeInvite forgets the call started by the initial INVITE req, if it is still c.
func (t *dialogTable) removeInvite(req *sip.Request, c *call) {
	key := inviteKey(req)
	t.mu.Lock()
	if t.invites[key] == c {
		delete(t.invites, key)
	}
	t.mu.Unlock()
}

// retransmission reports whether req, an INVITE without To tag, repeats the initial INVITE
// of a live call: same Call-ID, From tag and CSeq.
func (t *dialogTable) retransmission(req *sip.Request) bool {
	cseq := req.CSeq()
	if cseq == nil {
		return false
	}
	t.mu.Lock()
	c := t.invites[inviteKey(req)]
	t.mu.Unlock()
	return c != nil && c.st.repeatsInvite(cseq.SeqNo)
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

// handleAck routes an ACK of one of our 2xx answers through the state machine's ack
// transition (ACKs of error answers are absorbed by their INVITE transaction inside sipgo):
// the pending re-INVITE's (its due SDP answer applied), or the initial INVITE's, which
// ackInvite (invite.go) confirms. An ACK never gets an answer.
func (s *Server) handleAck(req *sip.Request, tx sip.ServerTransaction) {
	if _, ok := s.trusted(req, tx); !ok {
		return
	}
	c := s.dialogs.match(req)
	if c == nil {
		s.log.Debug("ACK for no dialog", "call_id", callIDOf(req))
		return
	}
	answer, rerr := sdpOf(req)
	kind, err := c.st.ack(req.CSeq().SeqNo, answer, rerr)
	switch kind {
	case ackReInvite:
		if err != nil {
			c.ackAnswerFailed("re-INVITE", err)
		}
		return
	case ackInitial:
		if c.ackInvite(req, tx) {
			return
		}
	}
	c.logger().Debug("ACK matches no unacknowledged answer", "cseq", req.CSeq().SeqNo)
}

// handleBye ends a call from the caller's side: 200 OK, the call's context is cancelled
// (the dialplan stops, media closes), and no BYE is sent back. A BYE in an early dialog
// (the INVITE still unanswered) gets 200 and the INVITE 487 (RFC 3261 15.1.2). A BYE with a
// CSeq lower than the dialog's gets 500 and changes nothing (RFC 3261 12.2.2).
//
// The BYE's transaction is terminated once it is answered: sipgo would keep it 64*T1 = 32 s
// (Timer J) to answer retransmissions. A retransmitted BYE then reaches this handler again
// and gets 200 while the call is still being torn down, 481 once it is gone.
func (s *Server) handleBye(req *sip.Request, tx sip.ServerTransaction) {
	defer tx.Terminate()
	c := s.inDialog(req, tx)
	if c == nil {
		return
	}
	switch c.st.byeIn() {
	case byeEarly:
		s.respond(req, tx, sip.StatusOK, "")
		c.logger().Debug("caller hung up before answer")
		c.cancel(ErrPeerHangup)
		return
	case byeNoDialog:
		s.respond(req, tx, sip.StatusCallTransactionDoesNotExists, "")
		return
	}
	// The CSeq is checked above, so ReadBye fails only when its 200 cannot be sent. byeIn
	// records the caller's BYE first so the call's end (which ReadBye triggers) sees who
	// hung up.
	if err := c.dlg.ReadBye(req, tx); err != nil {
		c.st.byeNotAnswered()
		c.logger().Warn("BYE not answered", "error", err)
		return
	}
	c.logger().Debug("caller hung up")
	c.cancel(ErrPeerHangup)
}

// inDialog runs the checks every request inside a dialog passes (BYE, INFO, OPTIONS): a
// trusted source, a known dialog (else 481), no Require (else 420), a CSeq above the
// dialog's (else 500, RFC 3261 12.2.2). It returns the call, or nil when the request has
// been answered (or dropped) already.
func (s *Server) inDialog(req *sip.Request, tx sip.ServerTransaction) *call {
	if _, ok := s.trusted(req, tx); !ok {
		return nil
	}
	c := s.dialogs.match(req)
	if c == nil {
		s.respond(req, tx, sip.StatusCallTransactionDoesNotExists, "")
		return nil
	}
	if s.refuseRequire(req, tx) {
		return nil
	}
	if err := c.st.inDialogRequest(string(req.Method), req.CSeq().SeqNo); err != nil {
		c.logger().Warn(string(req.Method)+" refused", "status", 500, "error", err)
		s.respond(req, tx, sip.StatusInternalServerError, "")
		return nil
	}
	return c
}

// handleCancel answers a CANCEL that matches no pending INVITE (sipgo answers the ones that
// do: 200 to the CANCEL, 487 to the INVITE).
func (s *Server) handleCancel(req *sip.Request, tx sip.ServerTransaction) {
	if _, ok := s.trusted(req, tx); !ok {
		return
	}
	s.respond(req, tx, sip.StatusCallTransactionDoesNotExists, "")
}

// infoAccept names the INFO bodies the service reads (legacy INFO, RFC 6086 section 2):
// DTMF, and video picture-update requests, which it acknowledges with nothing to do (it has
// no video).
const infoAccept = "application/dtmf-relay, application/dtmf, application/media_control+xml"

// handleInfo answers INFO inside a dialog (481 outside one): 500 for a stale CSeq; 469 Bad
// Info Package (with an empty Recv-Info) for any Info-Package, as the service supports
// none (RFC 6086 4.2.2); 200 without a body (keepalive); a DTMF body
// (application/dtmf-relay, application/dtmf) goes to the media session (200, or 400 when
// malformed); 415 with Accept for any other body type.
func (s *Server) handleInfo(req *sip.Request, tx sip.ServerTransaction) {
	c := s.inDialog(req, tx)
	if c == nil {
		return
	}
	if req.GetHeader("Info-Package") != nil {
		s.respond(req, tx, statusBadInfoPackage, "", sip.NewHeader("Recv-Info", ""))
		return
	}
	if len(req.Body()) == 0 {
		s.respond(req, tx, sip.StatusOK, "")
		return
	}
	ct := ""
	if h := req.ContentType(); h != nil {
		ct = h.Value()
	}
	if mt, _, _ := mime.ParseMediaType(ct); mt == "application/media_control+xml" {
		s.respond(req, tx, sip.StatusOK, "") // a video picture update: no video here
		return
	}
	if !dtmf.IsInfo(ct) {
		s.respond(req, tx, sip.StatusUnsupportedMediaType, "", sip.NewHeader("Accept", infoAccept))
		return
	}
	digit, dur, err := dtmf.ParseInfo(ct, req.Body())
	if err != nil {
		c.logger().Warn("malformed DTMF INFO", "error", err)
		s.respond(req, tx, sip.StatusBadRequest, "Malformed DTMF")
		return
	}
	if sess := c.Media(); sess != nil {
		sess.InjectDTMF(digit, dur)
	}
	s.respond(req, tx, sip.StatusOK, "")
}

// statusBadInfoPackage is 469 Bad Info Package (RFC 6086).
const statusBadInfoPackage = 469

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
	s.respond(req, tx, sip.StatusMethodNotAllowed, "", s.allowHeader())
}
