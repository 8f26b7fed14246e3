package sip

import (
	"fmt"
	"time"
)

// ackServerTx (sidecar patch, PATCHED.md) stands for the server transaction an ACK outside
// any transaction does not get (the ACK of a 2xx, RFC 3261 17): a transaction that is
// already over. Respond still sends, once and statelessly, on the connection a server
// transaction for the ACK would have used (upstream answered such an ACK through a
// transaction of its own; an ACK is never to be answered, RFC 3261 17.1.1.3, but a handler
// that does so sends what it did before).
type ackServerTx struct {
	tpl *TransportLayer
	req *Request
}

// NewAckServerTx returns the ServerTransaction handed to a request handler with an ACK that
// matches no transaction (the transaction layer passes it with a nil *ServerTx): Done is
// closed, Err is ErrTransactionTerminated, OnTerminate and OnCancel return false, Acks
// never delivers, Terminate does nothing, and Respond writes the response statelessly on
// the ACK's connection.
func NewAckServerTx(tpl *TransportLayer, req *Request) ServerTransaction {
	return &ackServerTx{tpl: tpl, req: req}
}

// closedDone is the Done channel of every ackServerTx: closed once, never written.
var closedDone = func() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}()

func (a *ackServerTx) Respond(res *Response) error {
	conn, err := a.tpl.serverRequestConnection(10*time.Second, a.req)
	if err != nil {
		return fmt.Errorf("respond to ACK: %w", err)
	}
	if conn == nil {
		return fmt.Errorf("respond to ACK: transport returned nil connection")
	}
	err = conn.WriteMsg(res)
	conn.TryClose()
	return err
}

func (a *ackServerTx) Acks() <-chan *Request          { return nil }
func (a *ackServerTx) OnCancel(FnTxCancel) bool       { return false }
func (a *ackServerTx) Terminate()                     {}
func (a *ackServerTx) OnTerminate(FnTxTerminate) bool { return false }
func (a *ackServerTx) Done() <-chan struct{}          { return closedDone }
func (a *ackServerTx) Err() error                     { return ErrTransactionTerminated }
