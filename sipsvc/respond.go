package sipsvc

import (
	"strconv"

	"github.com/emiago/sipgo/sip"
	"github.com/sidecar-voip/sidecar/internal/sipstatus"
)

// respond answers req statelessly within tx with code and reason ("" for the standard
// phrase), adding the Server header and hdrs. Final error answers are counted by code.
func (s *Server) respond(req *sip.Request, tx sip.ServerTransaction, code int, reason string, hdrs ...sip.Header) {
	if reason == "" {
		reason = sipstatus.Phrase(code)
	}
	res := sip.NewResponseFromRequest(req, code, reason, nil)
	s.decorate(res)
	for _, h := range hdrs {
		res.AppendHeader(h)
	}
	if code >= 300 {
		s.stats.reject(code)
	}
	if err := tx.Respond(res); err != nil {
		s.log.Debug("sip respond failed", "call_id", callIDOf(req), "status", code, "error", err)
	}
}

// fixedHeaders are the headers answers carry whose values are fixed at start, made once
// and shared by every response (nothing changes a header once it is in a response): an
// allocation per header and answer saved.
type fixedHeaders struct {
	server    sip.Header // nil without [sip] user-agent
	allow     sip.Header
	supported sip.Header // the SIP extensions the service supports: none
}

func newFixedHeaders(userAgent string, mwi bool) fixedHeaders {
	h := fixedHeaders{
		allow:     sip.NewHeader("Allow", "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO"),
		supported: sip.NewHeader("Supported", ""),
	}
	if mwi {
		h.allow = sip.NewHeader("Allow", "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, SUBSCRIBE")
	}
	if userAgent != "" {
		h.server = sip.NewHeader("Server", userAgent)
	}
	return h
}

// decorate adds the headers every answer carries: Server (when configured).
func (s *Server) decorate(res *sip.Response) {
	if s.fixed.server != nil && res.GetHeader("Server") == nil {
		res.AppendHeader(s.fixed.server)
	}
}

// allowHeader lists the methods the service takes: SUBSCRIBE (MWI) only when it serves
// mailboxes (Options.Mailboxes), else SUBSCRIBE gets 405.
func (s *Server) allowHeader() sip.Header { return s.fixed.allow }

func retryAfter(seconds int) sip.Header {
	return sip.NewHeader("Retry-After", strconv.Itoa(seconds))
}

func callIDOf(req *sip.Request) string {
	if h := req.CallID(); h != nil {
		return h.Value()
	}
	return ""
}

// toTag returns the To tag of req: non-empty for a request inside a dialog.
func toTag(req *sip.Request) string {
	if to := req.To(); to != nil {
		if t, ok := to.Params.Get("tag"); ok {
			return t
		}
	}
	return ""
}
