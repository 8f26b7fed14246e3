package sip

import (
	"context"
	"fmt"
	"log/slog"
	"time"
)

type ServerTx struct {
	baseTx
	acks chan *Request
	// cancels chan *Request
	onCancel     func(r *Request)
	timer_g      *time.Timer
	timer_g_time time.Duration
	timer_h      *time.Timer
	timer_i      *time.Timer
	timer_i_time time.Duration
	timer_j      *time.Timer
	timer_j_time time.Duration
	timer_1xx    *time.Timer
	timer_l      *time.Timer
	reliable     bool
	confirmed    bool // the ACK of a non-2xx final received (sidecar patch); under fsmMu
	// noTimer1xx (sidecar patch), set by the transaction layer before Init: no Timer_1xx
	// (WithTransactionLayerNoTimer1xx). Beside the other flags (sidecar patch: the
	// transaction fits the 240-byte size class, not 256).
	noTimer1xx bool
	// state is the FSM's current state (sidecar patch, see serverFsmState). Under fsmMu.
	state serverFsmState
	// timerSlot (sidecar patch) is the layer's timer slot of this transaction's Timer L or
	// J (serverTxTimers), -1 when none is armed there. Under mu. In the flags' padding.
	timerSlot int32
	// layer (sidecar patch, PATCHED.md), set by the transaction layer before the
	// transaction is used: what the layer shares with its server transactions. Nil for a
	// transaction made without a layer (NewServerTx alone), which keeps upstream's timers.
	layer *serverTxLayer
}

// serverTxLayer (sidecar patch) is what a transaction layer shares with each of its server
// transactions, made once per layer.
type serverTxLayer struct {
	// confirm takes the key of a transaction Confirmed by the ACK of its non-2xx final to
	// absorb retransmissions for ttl (its Timer I, 0 on reliable transports): the
	// transaction then ends at once instead of on its Timer I.
	confirm func(key string, ttl time.Duration)
	// timers runs the transactions' Timer L and Timer J (one runtime timer per layer).
	timers *serverTxTimers
}

// serverFsmState names a ServerTx FSM state (sidecar patch): the transitions assign it
// without allocating, where upstream stored each state as a method value bound to the
// transaction, an allocation per transition.
type serverFsmState uint8

const (
	srvInviteStateProcceeding serverFsmState = iota + 1
	srvInviteStateAccepted
	srvInviteStateCompleted
	srvInviteStateConfirmed
	srvInviteStateTerminated
	srvStateTrying
	srvStateProceeding
	srvStateCompleted
	srvStateTerminated
)

// spinState runs the current state (sidecar patch); ServerTx's spinFsm methods call it.
func (tx *ServerTx) spinState(in fsmInput) fsmInput {
	switch tx.state {
	case srvInviteStateProcceeding:
		return tx.inviteStateProcceeding(in)
	case srvInviteStateAccepted:
		return tx.inviteStateAccepted(in)
	case srvInviteStateCompleted:
		return tx.inviteStateCompleted(in)
	case srvInviteStateConfirmed:
		return tx.inviteStateConfirmed(in)
	case srvInviteStateTerminated:
		return tx.inviteStateTerminated(in)
	case srvStateTrying:
		return tx.stateTrying(in)
	case srvStateProceeding:
		return tx.stateProceeding(in)
	case srvStateCompleted:
		return tx.stateCompleted(in)
	case srvStateTerminated:
		return tx.stateTerminated(in)
	}
	return FsmInputNone
}

// currentFsmState is the current state as its method value, for compareFunctions (sidecar
// patch).
func (tx *ServerTx) currentFsmState() fsmContextState {
	tx.fsmMu.Lock()
	defer tx.fsmMu.Unlock()
	switch tx.state {
	case srvInviteStateProcceeding:
		return tx.inviteStateProcceeding
	case srvInviteStateAccepted:
		return tx.inviteStateAccepted
	case srvInviteStateCompleted:
		return tx.inviteStateCompleted
	case srvInviteStateConfirmed:
		return tx.inviteStateConfirmed
	case srvInviteStateTerminated:
		return tx.inviteStateTerminated
	case srvStateTrying:
		return tx.stateTrying
	case srvStateProceeding:
		return tx.stateProceeding
	case srvStateCompleted:
		return tx.stateCompleted
	case srvStateTerminated:
		return tx.stateTerminated
	}
	return nil
}

func NewServerTx(key string, origin *Request, conn Connection, logger *slog.Logger) *ServerTx {
	tx := new(ServerTx)
	tx.key = key
	tx.conn = conn

	// sidecar patch: the acks channel (an INVITE's only, see Acks) and the done channel
	// (see Done) are made when first needed: a TU that answers and never asks for them
	// (sidecar) spares both.
	tx.log = logger
	tx.origin = origin // NOTE: user may do some changes on this request which creates RACE
	tx.reliable = IsReliable(origin.Transport())
	tx.timerSlot = -1
	return tx
}

func (tx *ServerTx) Init() error {
	tx.initFSM()

	tx.mu.Lock()
	if !tx.reliable {
		tx.timer_g_time = Timer_G
		tx.timer_i_time = Timer_I
		tx.timer_j_time = Timer_J
	}
	tx.mu.Unlock()

	// RFC 3261 - 17.2.1
	if tx.Origin().IsInvite() && !tx.noTimer1xx {
		tx.mu.Lock()
		tx.timer_1xx = time.AfterFunc(Timer_1xx, func() {
			trying := NewResponseFromRequest(
				tx.Origin(),
				100,
				"Trying",
				nil,
			)
			// tx.Log().Trace("timer_1xx fired")
			if err := tx.Respond(trying); err != nil {
				tx.log.Error("send '100 Trying' response failed", "error", err, "tx", tx.Key())
			}
		})
		tx.mu.Unlock()
	}
	if tx.debugOn() {
		tx.log.Debug("Server transaction initialized", "tx", tx.Key())
	}
	return nil
}

func (tx *ServerTx) Connection() Connection {
	return tx.conn
}

// Receive is endpoint for handling received server requests.
// NOTE: it could block while passing request to client,
// therefore running in seperate goroutine is needed
func (tx *ServerTx) Receive(req *Request) error {
	tx.mu.Lock()
	if tx.timer_1xx != nil {
		tx.timer_1xx.Stop()
		tx.timer_1xx = nil
	}
	tx.mu.Unlock()

	var input fsmInput
	switch {
	case req.Method == tx.origin.Method:
		input = server_input_request
	case req.IsAck(): // ACK for non-2xx response
		input = server_input_ack
	case req.IsCancel():
		input = server_input_cancel
	default:
		return fmt.Errorf("unexpected message error")
	}

	tx.spinFsmWithRequest(input, req)
	return nil
}

func (tx *ServerTx) Respond(res *Response) error {
	if res.IsCancel() {
		return tx.conn.WriteMsg(res)
	}

	tx.mu.Lock()
	if tx.timer_1xx != nil {
		tx.timer_1xx.Stop()
		tx.timer_1xx = nil
	}
	tx.mu.Unlock()

	var input fsmInput
	switch {
	case res.IsProvisional():
		input = server_input_user_1xx
	case res.IsSuccess():
		input = server_input_user_2xx
	default:
		input = server_input_user_300_plus
	}
	// Return the transition's result; Timer J may terminate the transaction
	// as soon as the FSM lock is released.
	return tx.spinFsmWithResponse(input, res)
}

// Acks delivers the ACK of a non-2xx final (and ACKs passed up in the Accepted state): one
// waits in the channel for a reader, later ones arriving while it is unread are dropped.
//
// sidecar patch: the channel has one slot, filled by the first ACK passed up and never
// waited on (see ackSend); it exists for an INVITE only, the one transaction that gets ACKs
// (the nil channel of the others blocks a reader forever, as their empty one did), and is
// made on the first call or the first ACK passed up.
func (tx *ServerTx) Acks() <-chan *Request {
	if !tx.origin.IsInvite() {
		return nil
	}
	tx.mu.Lock()
	acks := tx.acksLocked()
	tx.mu.Unlock()
	return acks
}

// acksLocked returns the acks channel, made if not yet (sidecar patch). Under mu.
func (tx *ServerTx) acksLocked() chan *Request {
	if tx.acks == nil {
		tx.acks = make(chan *Request, 1)
	}
	return tx.acks
}

// ackSend hands r to a reader of Acks without blocking (sidecar patch). The channel has one
// slot: the first ACK passed up waits there for a reader, and an ACK arriving while the slot
// is still full is dropped (logged at Debug), as is an ACK after the transaction ended.
// Upstream's channel was unbuffered and an ACK no one was reading at once was handed to a
// new goroutine that blocked until the transaction ended: a goroutine (and its stack) per
// non-2xx final held for Timer I (T4, 5 s on UDP) when the TU never reads Acks.
func (tx *ServerTx) ackSend(r *Request) {
	tx.mu.Lock()
	ended := tx.closed // done, when made, is closed exactly when closed is set (delete, Done)
	var acks chan *Request
	if !ended && tx.origin.IsInvite() {
		acks = tx.acksLocked()
	}
	tx.mu.Unlock()
	if acks != nil {
		select {
		case acks <- r:
			return
		default:
		}
	}
	if tx.debugOn() {
		callID := ""
		if h := r.CallID(); h != nil {
			callID = h.Value()
		}
		tx.log.Debug("ACK missed", "callid", callID, "tx", tx.Key())
	}
}

// Ended reports whether the transaction has ended (Done closed), without making its Done
// channel (sidecar patch).
func (tx *ServerTx) Ended() bool {
	tx.mu.Lock()
	ended := tx.closed
	tx.mu.Unlock()
	return ended
}

func (tx *ServerTx) Terminate() {
	if tx.debugOn() {
		tx.log.Debug("Server transaction terminating", "tx", tx.Key())
	}
	if tx.delete(ErrTransactionTerminated) {
		// TODO: remove this double locking
		tx.fsmMu.Lock()
		tx.fsmErr = ErrTransactionTerminated
		tx.releaseMessages()
		tx.fsmMu.Unlock()
	}
}

// TerminateGracefully leaves finalized unreliable transactions alive for their
// retransmission timers while allowing the caller to return.
func (tx *ServerTx) TerminateGracefully() {
	if tx.reliable {
		// reliable transports have no retransmission, so it is better just to terminate
		tx.Terminate()
		return
	}

	// Check did we receive final response
	tx.fsmMu.Lock()
	finalized := tx.confirmed || tx.fsmResp != nil && !tx.fsmResp.IsProvisional()
	tx.fsmMu.Unlock()
	if !finalized {
		tx.Terminate()
		return
	}
	tx.log.Debug("Server transaction retained for timer termination")
}

// OnCancel is experimental
// It is racy thing if not registered after transaction creation
func (tx *ServerTx) OnCancel(f FnTxCancel) bool {
	tx.mu.Lock()
	if tx.closed {
		tx.mu.Unlock()
		return false
	}
	tx.registerOnCancel(f)
	tx.mu.Unlock()

	// Check is transaction already canceled
	// Problem is that transaction is marked canceled but not terminated yet
	// TODO move this check under single lock after removing this double locks
	if tx.Err() == ErrTransactionCanceled {
		return false
	}

	return true
}

func (tx *ServerTx) registerOnCancel(f FnTxCancel) {
	if tx.onCancel != nil {
		prev := tx.onCancel
		tx.onCancel = func(r *Request) {
			prev(r)
			f(r)
		}
		return
	}
	tx.onCancel = f
}

// Choose the right FSM init function depending on request method.
func (tx *ServerTx) initFSM() {
	tx.fsmMu.Lock()
	if tx.Origin().IsInvite() {
		tx.state = srvInviteStateProcceeding
	} else {
		tx.state = srvStateTrying
	}
	tx.fsmMu.Unlock()
}

// The FSM spinners of a server transaction (sidecar patch): baseTx's, run through
// spinState directly. baseTx's call its fsmState, a method value that binding to the
// transaction allocated once per transaction; a ServerTx leaves fsmState nil.

func (tx *ServerTx) spinFsmUnsafe(in fsmInput) {
	for i := in; i != FsmInputNone; {
		if TransactionFSMDebug {
			tx.log.Debug("Changing transaction state", "key", tx.key, "input", fsmString(i), "state", int(tx.state))
		}
		i = tx.spinState(i)
	}
}

func (tx *ServerTx) spinFsm(in fsmInput) {
	tx.fsmMu.Lock()
	tx.spinFsmUnsafe(in)
	tx.fsmMu.Unlock()
}

// spinFsmWithResponse returns the error from this transition before another FSM input
// can change it.
func (tx *ServerTx) spinFsmWithResponse(in fsmInput, resp *Response) error {
	tx.fsmMu.Lock()
	tx.fsmResp = resp
	tx.spinFsmUnsafe(in)
	err := tx.fsmErr
	tx.fsmMu.Unlock()
	return err
}

func (tx *ServerTx) spinFsmWithRequest(in fsmInput, req *Request) {
	tx.fsmMu.Lock()
	switch {
	case req.IsAck(): // ACK for non-2xx response
		tx.fsmAck = req
	case req.IsCancel():
		tx.fsmCancel = req
	}
	tx.spinFsmUnsafe(in)
	tx.fsmMu.Unlock()
}

func (tx *ServerTx) spinFsmWithError(in fsmInput, err error) {
	tx.fsmMu.Lock()
	tx.fsmErr = err
	tx.spinFsmUnsafe(in)
	tx.fsmMu.Unlock()
}

func (tx *ServerTx) delete(err error) bool {
	tx.mu.Lock()
	if tx.closed {
		tx.mu.Unlock()
		return false
	}
	tx.closed = true
	if tx.done != nil { // else Done makes it closed (sidecar patch)
		close(tx.done)
	}

	if tx.timer_i != nil {
		tx.timer_i.Stop()
		tx.timer_i = nil
	}
	if tx.timer_g != nil {
		tx.timer_g.Stop()
		tx.timer_g = nil
	}
	// tx.Log().Debug("transaction done")
	if tx.timer_h != nil {
		tx.timer_h.Stop()
		tx.timer_h = nil
	}
	if tx.timer_j != nil {
		tx.timer_j.Stop()
		tx.timer_j = nil
	}
	if tx.timer_1xx != nil {
		tx.timer_1xx.Stop()
		tx.timer_1xx = nil
	}
	// sidecar patch: Timer L (RFC 6026, 64*T1 after a 2xx) was never stopped here, so a
	// terminated INVITE transaction stayed reachable from the runtime's timer heap for 32 s
	// after its ACK (about 10 KB per answered call at a steady call rate).
	if tx.timer_l != nil {
		tx.timer_l.Stop()
		tx.timer_l = nil
	}
	if tx.timerSlot >= 0 { // Timer L or J on the layer's timers (sidecar patch)
		tx.layer.timers.stop(tx, tx.timerSlot)
		tx.timerSlot = -1
	}

	key := tx.key
	onterm := tx.onTerminate
	tx.mu.Unlock()

	if tx.debugOn() {
		tx.log.Debug("Server transaction destroyed", "tx", key)
	}
	if onterm != nil {
		onterm(key, err)
	}

	// Release the connection reference taken at creation, same as ClientTx.delete.
	// nil-checked because some tests construct a tx with a nil conn.
	if tx.conn != nil {
		if _, err := tx.conn.TryClose(); err != nil {
			tx.log.Info("Closing connection returned error", "error", err, "tx", key)
		}
	}
	return true
}

// releaseMessages (sidecar patch) drops a terminated transaction's last response, ACK and
// CANCEL, which nothing reads once it is terminated: a TU keeping the transaction (an
// answered call's INVITE transaction, kept for the call) no longer keeps its 2xx. Under
// fsmMu.
func (tx *ServerTx) releaseMessages() {
	tx.fsmResp, tx.fsmAck, tx.fsmCancel = nil, nil, nil
}

// debugOn reports whether the transaction's logger writes Debug records (sidecar patch: the
// Debug lines of every server transaction boxed the key into an interface, an allocation
// each, when Debug was off).
// armEndTimer arms Timer L or Timer J (in) to fire after d (sidecar patch): on the layer's
// timers when the transaction has a layer, else a time.AfterFunc as upstream, returned
// for the caller to keep in timer_l or timer_j. Nothing is armed once the transaction is
// terminated (delete, which stops them, ran already). Under mu.
func (tx *ServerTx) armEndTimer(d time.Duration, in fsmInput) *time.Timer {
	if tx.closed {
		return nil
	}
	if tx.layer != nil && tx.layer.timers != nil {
		tx.timerSlot = tx.layer.timers.arm(tx, d, in)
		return nil
	}
	return time.AfterFunc(d, func() {
		tx.spinFsm(in)
	})
}

func (tx *ServerTx) debugOn() bool {
	return tx.log.Enabled(context.Background(), slog.LevelDebug)
}
