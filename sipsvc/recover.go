package sipsvc

import (
	"runtime/debug"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// guard wraps a handler with the checks every request meets first: a request malformed
// beyond what sipgo's parser refuses (validate.go) is answered 400 or 505 (an ACK dropped) before
// the handler runs; then panic recovery: a panic is counted, logged with its stack, and
// answered 500 when the transaction can still take an answer; the process lives on.
// sipgo recovers nothing itself.
func (s *Server) guard(h sipgo.RequestHandler) sipgo.RequestHandler {
	return func(req *sip.Request, tx sip.ServerTransaction) {
		defer func() {
			if r := recover(); r != nil {
				s.handlerPanic(req, tx, r)
			}
		}()
		if code, why := malformed(req); code != 0 {
			s.log.Info("malformed request refused", "method", string(req.Method), "call_id", callIDOf(req),
				"why", why)
			if !req.IsAck() {
				s.respond(req, tx, code, "")
			}
			return
		}
		h(req, tx)
	}
}

// recoverGo is deferred first in every goroutine the service starts.
func (s *Server) recoverGo(what string) {
	if r := recover(); r != nil {
		s.stats.panics.Add(1)
		s.log.Error("goroutine panic", "in", what, "panic", r, "stack", string(debug.Stack()))
	}
}

// handlerPanic is what a recovered panic r of a request's handler (or of the call's goroutine
// it started) does: counted, logged with its stack, and a 500 where a response can go.
func (s *Server) handlerPanic(req *sip.Request, tx sip.ServerTransaction, r any) {
	s.stats.panics.Add(1)
	s.log.Error("sip handler panic", "method", string(req.Method), "call_id", callIDOf(req),
		"panic", r, "stack", string(debug.Stack()))
	if tx != nil && !req.IsAck() {
		s.respond(req, tx, 500, "")
	}
}
