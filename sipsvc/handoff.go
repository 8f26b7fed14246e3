package sipsvc

import (
	"net/netip"

	"github.com/emiago/sipgo/sip"
)

// startCall creates the admitted call req, routes it, and runs its dialplan on a goroutine
// of its own, which releases its max-calls slot when the call is over; it waits only for
// the call's setup: until the 200 OK is acknowledged or the call is over.
//
// The call is created and routed (identification, the profiles' templates: deep, short
// work) here, on sipgo's handler goroutine, which is already deep; a call refused there (no
// match, a rejection, a profile that cannot build) gets its final answer here too and never
// starts a goroutine. sipgo's handler goroutine then returns once the call is set up: the
// call's goroutine, which waits as long as the call lasts (Echo, Playback), starts shallow
// and never carries the frames of sipgo's transport and transaction layers below the
// handler, nor routing's, so its stack stays small.
//
// sipgo terminates an INVITE transaction still without a final answer when its handler
// returns (ServerTx.TerminateGracefully), so the handler waits until the final answer is
// out: a 200 OK until its ACK (ackInvite then ends the transaction itself), any other final
// answer until the call's goroutine is done.
func (s *Server) startCall(req *sip.Request, tx sip.ServerTransaction, src netip.AddrPort, offer []byte) {
	running := false // the call's goroutine owns the max-calls slot
	defer func() {
		if !running {
			s.limit.release()
		}
	}()
	c := s.newCall(req, tx, src, offer)
	if c == nil {
		return
	}
	plan, context, exten, err := c.safeRouting()
	if err != nil {
		c.end(nil, err)
		return
	}
	done := make(chan struct{})
	running = true
	go func() {
		defer close(done)
		defer s.limit.release()
		defer func() {
			if r := recover(); r != nil {
				s.handlerPanic(req, tx, r) // a panic off the dialplan (which recovers its own, safeRun)
			}
		}()
		c.run(plan, context, exten)
	}()
	select {
	case <-c.st.acked:
	case <-done:
	}
}
