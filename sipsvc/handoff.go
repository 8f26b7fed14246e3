package sipsvc

import (
	"net/netip"

	"github.com/emiago/sipgo/sip"
)

// startCall runs the admitted call req (runCall) on a goroutine of its own, which releases
// its max-calls slot when the call is over, and waits only for its setup: until the 200 OK
// is acknowledged or the call is over. sipgo's handler goroutine, which called
// handleInvite, then returns: the call's goroutine, which waits as long as the call lasts
// (Echo, Playback), starts shallow and never carries the frames of sipgo's transport and
// transaction layers below the handler, so its stack stays small.
//
// sipgo terminates an INVITE transaction still without a final answer when its handler
// returns (ServerTx.TerminateGracefully), so the handler waits until the final answer is
// out: a 200 OK until its ACK (ackInvite then ends the transaction itself), any other final
// answer until the call's goroutine is done.
func (s *Server) startCall(req *sip.Request, tx sip.ServerTransaction, src netip.AddrPort, offer []byte) {
	// The call's state is made here, so this goroutine waits on its acked channel directly
	// (no hand-over from the call's goroutine, no wake-up to receive it), and on it alone:
	// the call's goroutine closes it last when the 200 was never acknowledged (endSetup), so
	// no second channel and no select.
	st := newCallState(req.CSeq().SeqNo)
	go func() {
		defer st.endSetup()
		defer s.limit.release()
		defer func() {
			if r := recover(); r != nil {
				s.handlerPanic(req, tx, r) // a panic off route (which recovers its own, safeRoute)
			}
		}()
		s.runCall(req, tx, src, offer, st)
	}()
	<-st.acked
}
