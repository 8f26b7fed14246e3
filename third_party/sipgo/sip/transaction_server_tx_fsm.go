package sip

import (
	"time"
)

// TODO v2
// Originally forked from https://github.com/ghettovoice/gosip by @ghetovoice
// Better design could by passing some context through fsm state
// Context could carry either response or error

// invite state machine https://datatracker.ietf.org/doc/html/rfc3261#section-17.1.1.2
func (tx *ServerTx) inviteStateProcceeding(s fsmInput) fsmInput {
	var spinfn fsmState
	switch s {
	case server_input_request:
		tx.state, spinfn = srvInviteStateProcceeding, tx.actRespond
	case server_input_cancel:
		tx.state, spinfn = srvInviteStateProcceeding, tx.actCancel
	case server_input_user_1xx:
		tx.state, spinfn = srvInviteStateProcceeding, tx.actRespond
	case server_input_user_2xx:
		// https://www.rfc-editor.org/rfc/rfc6026#section-7.1
		tx.state, spinfn = srvInviteStateAccepted, tx.actRespondAccept
	case server_input_user_300_plus:
		tx.state, spinfn = srvInviteStateCompleted, tx.actRespondComplete
	case server_input_transport_err:
		tx.state, spinfn = srvInviteStateTerminated, tx.actTransErr
	default:
		return FsmInputNone
	}

	return spinfn()
}

func (tx *ServerTx) inviteStateCompleted(s fsmInput) fsmInput {
	var spinfn fsmState
	switch s {
	case server_input_request:
		tx.state, spinfn = srvInviteStateCompleted, tx.actRespond
	case server_input_ack:
		tx.state, spinfn = srvInviteStateConfirmed, tx.actConfirm
	case server_input_timer_g:
		tx.state, spinfn = srvInviteStateCompleted, tx.actRespondComplete
	case server_input_timer_h:
		tx.state, spinfn = srvInviteStateTerminated, tx.actDelete
	case server_input_transport_err:
		tx.state, spinfn = srvInviteStateTerminated, tx.actTransErr
	default:
		// No changes
		return FsmInputNone
	}

	return spinfn()
}

func (tx *ServerTx) inviteStateConfirmed(s fsmInput) fsmInput {
	var spinfn fsmState
	switch s {
	case server_input_timer_i:
		tx.state, spinfn = srvInviteStateTerminated, tx.actDelete
	default:
		// No changes
		return FsmInputNone
	}
	return spinfn()
}

func (tx *ServerTx) inviteStateAccepted(s fsmInput) fsmInput {
	// https://www.rfc-editor.org/rfc/rfc6026#section-7.1
	var spinfn fsmState
	switch s {
	case server_input_ack:
		tx.state, spinfn = srvInviteStateAccepted, tx.actPassupAck
	case server_input_user_2xx:
		// The server transaction MUST NOT generate 2xx retransmissions on its
		// own.  Any retransmission of the 2xx response passed from the TU to
		// the transaction while in the "Accepted" state MUST be passed to the
		// transport layer for transmission.
		tx.state, spinfn = srvInviteStateAccepted, tx.actRespond
	case server_input_timer_l:
		tx.state, spinfn = srvInviteStateTerminated, tx.actDelete
	default:
		return FsmInputNone
	}
	return spinfn()
}

func (tx *ServerTx) inviteStateTerminated(s fsmInput) fsmInput {
	var spinfn fsmState
	// Terminated
	switch s {
	case server_input_delete:
		tx.state, spinfn = srvInviteStateTerminated, tx.actDelete
	default:
		// No changes
		return FsmInputNone
	}
	return spinfn()
}

func (tx *ServerTx) stateTrying(s fsmInput) fsmInput {
	var spinfn fsmState
	switch s {
	case server_input_user_1xx:
		tx.state, spinfn = srvStateProceeding, tx.actRespond
	case server_input_user_2xx:
		tx.state, spinfn = srvStateCompleted, tx.actFinal
	case server_input_user_300_plus:
		tx.state, spinfn = srvStateCompleted, tx.actFinal
	case server_input_transport_err:
		tx.state, spinfn = srvStateTerminated, tx.actTransErr
	default:
		// No changes
		return FsmInputNone
	}
	return spinfn()
}

// Proceeding
func (tx *ServerTx) stateProceeding(s fsmInput) fsmInput {
	var spinfn fsmState
	switch s {
	case server_input_request:
		tx.state, spinfn = srvStateProceeding, tx.actRespond
	case server_input_user_1xx:
		tx.state, spinfn = srvStateProceeding, tx.actRespond
	case server_input_user_2xx:
		tx.state, spinfn = srvStateCompleted, tx.actFinal
	case server_input_user_300_plus:
		tx.state, spinfn = srvStateCompleted, tx.actFinal
	case server_input_transport_err:
		tx.state, spinfn = srvStateTerminated, tx.actTransErr
	default:
		// No changes
		return FsmInputNone
	}
	return spinfn()
}

// Completed
func (tx *ServerTx) stateCompleted(s fsmInput) fsmInput {
	var spinfn fsmState
	switch s {
	case server_input_request:
		tx.state, spinfn = srvStateCompleted, tx.actRespond
	case server_input_timer_j:
		tx.state, spinfn = srvStateTerminated, tx.actDelete
	case server_input_transport_err:
		tx.state, spinfn = srvStateTerminated, tx.actTransErr
	default:
		// No changes
		return FsmInputNone
	}
	return spinfn()
}

// Terminated
func (tx *ServerTx) stateTerminated(s fsmInput) fsmInput {
	var spinfn fsmState
	switch s {
	case server_input_delete:
		tx.state, spinfn = srvStateTerminated, tx.actDelete
	default:
		// No changes
		return FsmInputNone
	}
	return spinfn()
}

func (tx *ServerTx) actRespond() fsmInput {
	if err := tx.passResp(); err != nil {
		return server_input_transport_err
	}

	return FsmInputNone
}

func (tx *ServerTx) actRespondComplete() fsmInput {
	if err := tx.passResp(); err != nil {
		return server_input_transport_err
	}

	if !tx.reliable {
		tx.mu.Lock()
		if tx.timer_g == nil {

			tx.timer_g = time.AfterFunc(tx.timer_g_time, func() {
				tx.spinFsm(server_input_timer_g)
			})
		} else {
			tx.timer_g_time *= 2
			if tx.timer_g_time > T2 {
				tx.timer_g_time = T2
			}

			tx.timer_g.Reset(tx.timer_g_time)
		}
		tx.mu.Unlock()
	}

	tx.mu.Lock()
	if tx.timer_h == nil {
		tx.timer_h = time.AfterFunc(Timer_H, func() {
			tx.spinFsm(server_input_timer_h)
		})
	}
	tx.mu.Unlock()

	return FsmInputNone
}

func (tx *ServerTx) actRespondAccept() fsmInput {
	if err := tx.passResp(); err != nil {
		return server_input_transport_err
	}

	tx.mu.Lock()
	tx.timer_l = tx.armEndTimer(Timer_L, server_input_timer_l) // sidecar patch
	tx.mu.Unlock()

	return FsmInputNone
}

func (tx *ServerTx) actPassupAck() fsmInput {
	tx.passAck()
	return FsmInputNone
}

// Send final response
func (tx *ServerTx) actFinal() fsmInput {
	if err := tx.passResp(); err != nil {
		return server_input_transport_err
	}

	// https://datatracker.ietf.org/doc/html/rfc3261#section-17.2.2
	//  When the server transaction enters the "Completed" state, it MUST set
	//    Timer J to fire in 64*T1 seconds for unreliable transports, and zero
	//    seconds for reliable transports.
	tx.mu.Lock()
	tx.timer_j = tx.armEndTimer(tx.timer_j_time, server_input_timer_j) // sidecar patch
	tx.mu.Unlock()

	return FsmInputNone
}

// Inform user of transport error
func (tx *ServerTx) actTransErr() fsmInput {
	tx.log.Debug("Transport error. Transaction will terminate", "fsmError", tx.fsmErr, "tx", tx.Key())
	return server_input_delete
}

// Inform user of timeout fsmError
func (tx *ServerTx) actTimeout() fsmInput {
	tx.log.Debug("Timed out. Transaction will terminate", "fsmError", tx.fsmErr, "tx", tx.Key())
	return server_input_delete
}

// Just delete the transaction.
func (tx *ServerTx) actDelete() fsmInput {
	if tx.fsmErr == nil {
		tx.fsmErr = ErrTransactionTerminated
	}
	tx.delete(tx.fsmErr)
	tx.releaseMessages() // sidecar patch: see releaseMessages
	return FsmInputNone
}

func (tx *ServerTx) actConfirm() fsmInput {
	tx.mu.Lock()

	if tx.timer_g != nil {
		tx.timer_g.Stop()
		tx.timer_g = nil
	}

	if tx.timer_h != nil {
		tx.timer_h.Stop()
		tx.timer_h = nil
	}

	// sidecar patch: a transaction layer that absorbs the retransmissions of Confirmed
	// transactions by their key (onConfirm) gets the key, and the transaction ends now, as
	// on Timer I (its terminate callbacks run, ErrTransactionTerminated), instead of
	// staying for T4 (5 s on UDP) with its INVITE.
	var onConfirm func(key string, ttl time.Duration)
	if tx.layer != nil {
		onConfirm = tx.layer.confirm
	}
	if onConfirm == nil {
		// If transport is reliable this will be 0 and fire imediately
		tx.timer_i = time.AfterFunc(tx.timer_i_time, func() {
			tx.spinFsm(server_input_timer_i)
		})
	}

	tx.mu.Unlock()

	tx.passAck()
	// sidecar patch: Confirmed only absorbs retransmitted ACKs and INVITEs until Timer I
	// (5 s on UDP), which needs the key alone: the final response (retransmitted no more),
	// the ACK (passed up above) and a CANCEL are let go instead of kept to the end.
	tx.releaseMessages()
	tx.confirmed = true
	if onConfirm != nil {
		// The key is held before the transaction leaves the store: a retransmission
		// finds one or the other.
		if tx.timer_i_time > 0 {
			onConfirm(tx.key, tx.timer_i_time)
		}
		return server_input_timer_i
	}
	return FsmInputNone
}

func (tx *ServerTx) actCancel() fsmInput {
	r := tx.fsmCancel

	if r == nil {
		return FsmInputNone
	}

	tx.log.Debug("Passing 487 on CANCEL", "tx", tx.Key())
	tx.fsmResp = NewResponseFromRequest(tx.origin, StatusRequestTerminated, "Request Terminated", nil)
	tx.fsmErr = ErrTransactionCanceled // For now only informative

	// Check is there some listener on cancel
	tx.mu.Lock()
	onCancel := tx.onCancel
	tx.mu.Unlock()
	if onCancel != nil {
		onCancel(r)
	}

	return server_input_user_300_plus
}

func (tx *ServerTx) passAck() {
	r := tx.fsmAck
	if r == nil {
		return
	}

	tx.ackSend(r)
}

func (tx *ServerTx) passResp() error {
	lastResp := tx.fsmResp

	if lastResp == nil {
		// We may have received multiple request but without any response
		// placed yet in transaction
		return nil
	}

	err := tx.conn.WriteMsg(lastResp)
	if err != nil {
		tx.log.Debug("fail to pass response", "error", err, "res", lastResp.StartLine(), "tx", tx.Key())
		tx.fsmErr = wrapTransportError(err)
		return err
	}
	return nil
}
