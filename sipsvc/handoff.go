package sipsvc

import (
	"net/netip"

	"github.com/emiago/sipgo/sip"
)

// callStart is an admitted call before it has a goroutine: its state, its INVITE
// transaction wrapped for the 100 Trying (tryingTx), and what runCall needs, made in one
// allocation by handleInvite. The call keeps st and ttx (as its transaction) for its life.
type callStart struct {
	s     *Server
	req   *sip.Request
	src   netip.AddrPort
	offer []byte
	st    callState
	ttx   tryingTx
}

// startCall runs the admitted call (runCall) on a goroutine of its own, which releases
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
func (cs *callStart) startCall() {
	// The call's state is made by handleInvite, so this goroutine waits on its acked
	// channel directly (no hand-over from the call's goroutine, no wake-up to receive it),
	// and on it alone: the call's goroutine closes it last when the 200 was never
	// acknowledged (endSetup), so no second channel and no select.
	go cs.run()
	<-cs.st.acked
}

// run is the call's goroutine.
func (cs *callStart) run() {
	s, st := cs.s, &cs.st
	defer st.endSetup()
	defer s.limit.release()
	defer func() {
		if r := recover(); r != nil {
			s.handlerPanic(cs.req, &cs.ttx, r) // a panic off route (which recovers its own, safeRoute)
		}
	}()
	s.runCall(cs.req, &cs.ttx, cs.src, cs.offer, st)
}
