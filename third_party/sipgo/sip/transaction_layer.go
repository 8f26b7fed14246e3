package sip

import (
	"context"
	"fmt"
	"log/slog"
	"time"
)

// TransactionRequestHandler handles a request with its server transaction; tx is nil for an
// ACK that matches no transaction, as the ACK of a 2xx does (sidecar patch, PATCHED.md):
// see NewAckServerTx.
type TransactionRequestHandler func(req *Request, tx *ServerTx)
type UnhandledResponseHandler func(req *Response)
type ErrorHandler func(err error)

func defaultRequestHandler(r *Request, tx *ServerTx) {
	DefaultLogger().Info("Unhandled sip request. OnRequest handler not added", "caller", "transactionLayer", "msg", r.Short())
}

func defaultUnhandledRespHandler(r *Response) {
	DefaultLogger().Info("TransactionLayer: Unhandled sip response. Possible retransmissions. Set UnhandledResponseHandler", "caller", "transactionLayer", "msg", r.Short())
}

type TransactionLayer struct {
	tpl           *TransportLayer
	reqHandler    TransactionRequestHandler
	unRespHandler UnhandledResponseHandler

	clientTransactions *transactionStore[*ClientTx]
	serverTransactions *transactionStore[*ServerTx]

	terminateOnConnClose bool

	// preRequest (sidecar patch, PATCHED.md) sees each request before a new server
	// transaction is made for it.
	preRequest func(req *Request) *Response

	// confirmed (sidecar patch, PATCHED.md) holds the keys of the INVITE server
	// transactions ended on the ACK of their non-2xx final until their Timer I: the ACKs
	// and INVITEs retransmitted for them are absorbed.
	confirmed *confirmedKeys

	// noTimer1xx (sidecar patch): server INVITE transactions arm no Timer_1xx.
	noTimer1xx bool

	// serverTx (sidecar patch) holds confirmed.add, made once, and the layer's server
	// transaction timers (Timer L and J); onServerTxTerminate is serverTxTerminate as a
	// method value made once, not once per server transaction.
	serverTx            *serverTxLayer
	onServerTxTerminate FnTxTerminate

	// workers (sidecar patch) run the received messages, a goroutine each, reused.
	workers msgWorkers

	log *slog.Logger
}

type TransactionLayerOption func(tpl *TransactionLayer)

func WithTransactionLayerLogger(l *slog.Logger) TransactionLayerOption {
	return func(txl *TransactionLayer) {
		if l != nil {
			txl.log = l.With("caller", "TransactionLayer")
		}
	}
}

func WithTransactionLayerUnhandledResponseHandler(f func(r *Response)) TransactionLayerOption {
	return func(txl *TransactionLayer) {
		txl.unRespHandler = f
	}
}

// WithTransactionLayerTerminateOnConnClose enables termination of pending
// client and server transactions when the underlying connection closes,
// instead of waiting for timers to expire.
//
// Experimental
func WithTransactionLayerTerminateOnConnClose() TransactionLayerOption {
	return func(txl *TransactionLayer) {
		txl.terminateOnConnClose = true
	}
}

// WithTransactionLayerPreRequest (sidecar patch, PATCHED.md) sets f to run on each request
// that matches no server transaction, before one is created for it. When f returns a
// response, it is sent statelessly on the request's connection and no transaction is
// created: the request never reaches the request handler. f must be cheap and not block.
func WithTransactionLayerPreRequest(f func(req *Request) *Response) TransactionLayerOption {
	return func(txl *TransactionLayer) {
		txl.preRequest = f
	}
}

// WithTransactionLayerNoTimer1xx (sidecar patch, PATCHED.md): the INVITE server
// transactions of the layer arm no Timer_1xx, which sends a 100 Trying when the TU sent no
// response within 200 ms (RFC 3261 17.2.1): a TU that sends its own 100 when due (as
// sidecar does, sipsvc/trying.go) spares a timer per INVITE.
func WithTransactionLayerNoTimer1xx() TransactionLayerOption {
	return func(txl *TransactionLayer) {
		txl.noTimer1xx = true
	}
}

func NewTransactionLayer(tpl *TransportLayer, options ...TransactionLayerOption) *TransactionLayer {
	txl := &TransactionLayer{
		tpl:                tpl,
		clientTransactions: newTransactionStore[*ClientTx](),
		serverTransactions: newTransactionStore[*ServerTx](),
		confirmed:          newConfirmedKeys(),

		reqHandler:    defaultRequestHandler,
		unRespHandler: defaultUnhandledRespHandler,
	}
	txl.log = DefaultLogger().With("caller", "TransactionLayer")
	txl.serverTx = &serverTxLayer{confirm: txl.confirmed.add, timers: newServerTxTimers()}
	txl.onServerTxTerminate = txl.serverTxTerminate

	for _, o := range options {
		o(txl)
	}

	//Send all transport messages to our transaction layer
	tpl.OnMessage(txl.handleMessage)

	notify := func(conn Connection) { txl.OnConnectionClose(conn) }
	if tpl.tcp != nil {
		tpl.tcp.onConnClose = notify
	}
	if tpl.tls != nil {
		tpl.tls.onConnClose = notify
	}
	if tpl.ws != nil {
		tpl.ws.onConnClose = notify
	}
	if tpl.wss != nil {
		tpl.wss.onConnClose = notify
	}

	return txl
}

func (txl *TransactionLayer) OnRequest(h TransactionRequestHandler) {
	txl.reqHandler = h
}

// OnConnectionClose is called when a reliable transport connection (TCP, TLS,
// WS, WSS) is closed by the remote side or due to a read error.
func (txl *TransactionLayer) OnConnectionClose(conn Connection) {
	if txl.terminateOnConnClose {
		txl.terminateClientTransactions(conn)
		txl.terminateServerTransactions(conn)
	}
}

func (txl *TransactionLayer) terminateClientTransactions(conn Connection) {
	txl.clientTransactions.mu.RLock()
	for _, tx := range txl.clientTransactions.items {
		if tx.conn == conn {
			go tx.spinFsmWithError(client_input_transport_err,
				fmt.Errorf("connection closed: %w", ErrTransactionTransport))
		}
	}
	txl.clientTransactions.mu.RUnlock()
}

func (txl *TransactionLayer) terminateServerTransactions(conn Connection) {
	txl.serverTransactions.mu.RLock()
	for _, tx := range txl.serverTransactions.items {
		if tx.conn == conn {
			go tx.spinFsmWithError(server_input_transport_err,
				fmt.Errorf("connection closed: %w", ErrTransactionTransport))
		}
	}
	txl.serverTransactions.mu.RUnlock()
}

// handleMessage is entry for handling requests and responses from transport
func (txl *TransactionLayer) handleMessage(msg Message) {
	// Having concurency here we increased throghput but also solving deadlock
	// Current client transactions are blocking on passUp and this may block when calling tx.Receive
	// forking here can remove this

	//
	// sidecar patch: each message still runs on a goroutine of its own, one reused from
	// the layer's waiting ones when there is one (msgWorkers).
	switch msg.(type) {
	case *Request, *Response:
		txl.workers.run(txl, msg)
	default:
		txl.log.Error("unsupported message, skip it")
	}
}

// handleMessageNow handles msg on the calling goroutine (sidecar patch: what upstream's
// goroutine per message ran).
func (txl *TransactionLayer) handleMessageNow(msg Message) {
	switch msg := msg.(type) {
	case *Request:
		txl.handleRequestBackground(msg)
	case *Response:
		txl.handleResponseBackground(msg)
	}
}

func (txl *TransactionLayer) handleRequestBackground(req *Request) {
	if err := txl.handleRequest(req); err != nil {
		txl.log.Error("Server tx failed to handle request", "error", err, "req", req.StartLine())
	}
}

func (txl *TransactionLayer) handleRequest(req *Request) error {
	if req.IsCancel() {
		// Match transaction https://datatracker.ietf.org/doc/html/rfc3261#section-9.2
		// 	The CANCEL method requests that the TU at the server side cancel a
		//    pending transaction.  The TU determines the transaction to be
		//    cancelled by taking the CANCEL request, and then assuming that the
		//    request method is anything but CANCEL or AC

		// For now we only match INVITE
		key, err := makeServerTxKey(req, INVITE)
		if err != nil {
			txl.rejectMalformedRequest(req, err)
			return fmt.Errorf("make key failed: %w", err)
		}

		tx, exists := txl.getServerTx(key)
		if !exists && txl.confirmed.has(key) {
			// sidecar patch: the INVITE's transaction was Confirmed (see confirmedKeys),
			// where a CANCEL is answered 200 and changes nothing.
			if err := txl.tpl.WriteMsg(NewResponseFromRequest(req, StatusOK, "OK", nil)); err != nil {
				return fmt.Errorf("Failed to respond 200 for CANCEL: %w", err)
			}
			return nil
		}
		if exists {
			// Send 200 OK for CANCEL first, then terminate the INVITE.
			// The CANCEL client transaction retransmits until it receives
			// a response; sending 200 OK before the 487 ensures the UAC
			// stops retransmitting immediately.
			if err := tx.conn.WriteMsg(NewResponseFromRequest(req, StatusOK, "OK", nil)); err != nil {
				return fmt.Errorf("Failed to respond 200 for CANCEL: %w", err)
			}

			// Now let the FSM terminate the INVITE transaction (sends 487)
			if err := tx.Receive(req); err != nil {
				return fmt.Errorf("failed to receive req: %w", err)
			}
			return nil
		}
		// Now proceed as normal transaction, and let developer decide what todo with this CANCEL
	}

	key, err := makeServerTxKey(req, "")
	if err != nil {
		txl.rejectMalformedRequest(req, err)
		return fmt.Errorf("make key failed: %w", err)
	}

	return txl.serverTxRequest(req, key)
}

// rejectMalformedRequest sends a stateless 400 Bad Request response when a
// request is too malformed to create a transaction (e.g. missing CSeq or Via).
//
// Per RFC 3261 Section 8.2:
//
//	If a UAS does not understand a header field in a request (that is,
//	the header field is not defined in this specification or in any
//	installed extensions), the server MUST ignore that header field and
//	continue processing the message.
//
// And Section 16.3 (Request Validation):
//
//	If the request contains a malformed header field that the proxy
//	requires, the proxy SHOULD return a 400 (Bad Request) response.
//
// Without this, the sender retransmits indefinitely because it never
// receives any response.
func (txl *TransactionLayer) rejectMalformedRequest(req *Request, reason error) {
	// Build a minimal 400 response from whatever headers the request has.
	// NewResponseFromRequest safely skips nil CSeq, From, To, Call-ID.
	res := NewResponseFromRequest(req, StatusBadRequest, "Bad Request", nil)

	if err := txl.tpl.WriteMsg(res); err != nil {
		txl.log.Error("Failed to send stateless 400 for malformed request",
			"error", err,
			"reason", reason.Error(),
			"req", req.StartLine(),
		)
	}
}

// ackRequest (sidecar patch) passes an ACK matching no server transaction to the request
// handler with a nil transaction: upstream made a non-INVITE server transaction for it
// (the transaction, its channel, FSM closures, an entry in the store, a connection
// reference), which the handler could only answer, and an ACK is never answered (RFC 3261
// 17.1.1.3). The pre-request hook still sees it first; a response it returns is written
// statelessly, as for any request.
func (txl *TransactionLayer) ackRequest(req *Request) error {
	if txl.preRequest != nil {
		if res := txl.preRequest(req); res != nil {
			conn, err := txl.tpl.serverRequestConnection(10*time.Second, req)
			if err != nil {
				return fmt.Errorf("server tx get connection failed: %w", err)
			}
			if conn == nil {
				return fmt.Errorf("transport returned nil connection")
			}
			err = conn.WriteMsg(res)
			conn.TryClose()
			if err != nil {
				return fmt.Errorf("write stateless %d: %w", res.StatusCode, err)
			}
			return nil
		}
	}
	txl.reqHandler(req, nil)
	return nil
}

func (txl *TransactionLayer) serverTxRequest(req *Request, key string) error {
	txl.serverTransactions.lock()
	tx, exists := txl.serverTransactions.items[key]
	if exists {
		txl.serverTransactions.unlock()
		if err := tx.Receive(req); err != nil {
			return fmt.Errorf("failed to receive req: %w", err)
		}
		return nil
	}
	txl.serverTransactions.unlock()
	if (req.Method == INVITE || req.Method == ACK) && txl.confirmed.has(key) {
		// sidecar patch: a retransmission for a Confirmed transaction, absorbed.
		return nil
	}
	if req.Method == ACK {
		// sidecar patch: an ACK matching no transaction (the ACK of a 2xx, RFC 3261 17.2.1
		// and 13.3.1.4: not part of the INVITE transaction, which a 2xx ends, but passed
		// to the TU) gets no transaction of its own.
		return txl.ackRequest(req)
	}

	// Connections are singleflight operations
	conn, err := txl.tpl.serverRequestConnection(10*time.Second, req)
	if err != nil {
		return fmt.Errorf("server tx get connection failed: %w", err)
	}
	if conn == nil {
		return fmt.Errorf("transport returned nil connection")
	}
	if txl.preRequest != nil {
		if res := txl.preRequest(req); res != nil {
			// Answered statelessly (sidecar patch): no transaction.
			err := conn.WriteMsg(res)
			conn.TryClose()
			if err != nil {
				return fmt.Errorf("write stateless %d: %w", res.StatusCode, err)
			}
			return nil
		}
	}

	txl.serverTransactions.lock()
	tx, exists = txl.serverTransactions.items[key]
	if exists {
		txl.serverTransactions.unlock()
		conn.TryClose()

		if err := tx.Receive(req); err != nil {
			return fmt.Errorf("failed to receive req: %w", err)
		}
		return nil
	}

	tx = NewServerTx(key, req, conn, txl.log)
	tx.layer = txl.serverTx
	tx.noTimer1xx = txl.noTimer1xx
	if err := tx.Init(); err != nil {
		txl.serverTransactions.unlock()
		// Init failed: this tx never reaches delete(), so release the connection
		// reference serverRequestConnection took here (mirrors the conn.TryClose
		// the client path does when it discards a transaction).
		conn.TryClose()
		return err
	}

	// put tx to store
	txl.serverTransactions.items[key] = tx
	tx.OnTerminate(txl.onServerTxTerminate)
	txl.serverTransactions.unlock()

	// pass request and transaction to handler
	txl.reqHandler(req, tx)
	return nil
}

func (txl *TransactionLayer) serverTxCreate(req *Request, key string) (*ServerTx, error) {
	// Connection must exist by transport layer or it will be created
	// What if connection setup can not be made fast enough?
	conn, err := txl.tpl.serverRequestConnection(10*time.Second, req)
	if err != nil {
		return nil, fmt.Errorf("server tx get connection failed: %w", err)
	}

	tx := NewServerTx(key, req, conn, txl.log)
	if err := tx.Init(); err != nil {
		// Init failed: this tx never reaches delete(), so release the connection
		// reference serverRequestConnection took here (mirrors the conn.TryClose
		// the client path does when it discards a transaction).
		if conn != nil {
			conn.TryClose()
		}
		return tx, err
	}
	return tx, nil
}

func (txl *TransactionLayer) handleResponseBackground(res *Response) {
	if err := txl.handleResponse(res); err != nil {
		txl.log.Error("Client tx failed to handle response", "error", err)
	}
}

func (txl *TransactionLayer) handleResponse(res *Response) error {
	key, err := ClientTxKeyMake(res)
	if err != nil {
		return fmt.Errorf("make key failed: %w", err)
	}

	tx, exists := txl.getClientTx(key)
	if !exists {
		// RFC 3261 - 17.1.1.2.
		// Not matched responses should be passed directly to the UA
		txl.unRespHandler(res)
		return nil
	}

	tx.Receive(res)
	return nil
}

func (txl *TransactionLayer) Request(ctx context.Context, req *Request) (*ClientTx, error) {
	tx, err := txl.NewClientTransaction(ctx, req)
	if err != nil {
		return nil, err
	}

	if err := tx.Init(); err != nil {
		tx.Terminate()
		return nil, err
	}
	return tx, nil
}

func (txl *TransactionLayer) NewClientTransaction(ctx context.Context, req *Request) (*ClientTx, error) {
	if req.IsAck() {
		return nil, fmt.Errorf("ACK request must be sent directly through transport")
	}

	key, err := ClientTxKeyMake(req)
	if err != nil {
		return nil, err
	}

	tx, err := txl.clientTxRequest(ctx, req, key)
	if err != nil {
		return nil, err
	}
	return tx, nil
}

func (txl *TransactionLayer) clientTxRequest(ctx context.Context, req *Request, key string) (*ClientTx, error) {
	conn, err := txl.tpl.ClientRequestConnection(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("client transcation failed to request connection: %w", err)
	}

	txl.clientTransactions.lock()
	tx, exists := txl.clientTransactions.items[key]
	if exists {
		txl.clientTransactions.unlock()
		conn.TryClose()
		return nil, fmt.Errorf("client transaction %q already exists", key)
	}
	tx = NewClientTx(key, req, conn, txl.log)

	txl.clientTransactions.items[key] = tx
	tx.OnTerminate(txl.clientTxTerminate)
	txl.clientTransactions.unlock()
	return tx, nil
}

func (txl *TransactionLayer) Respond(res *Response) (*ServerTx, error) {
	key, err := ServerTxKeyMake(res)
	if err != nil {
		return nil, err
	}

	tx, exists := txl.getServerTx(key)
	if !exists {
		return nil, fmt.Errorf("transaction does not exists")
	}

	err = tx.Respond(res)
	if err != nil {
		return nil, err
	}

	return tx, nil
}

func (txl *TransactionLayer) clientTxTerminate(key string, err error) {
	if !txl.clientTransactions.drop(key) {
		txl.log.Info("Non existing client tx was removed", "tx", key)
	}
}

func (txl *TransactionLayer) serverTxTerminate(key string, err error) {
	if !txl.serverTransactions.drop(key) {
		txl.log.Info("Non existing server tx was removed", "tx", key)
	}
}

// RFC 17.1.3.
func (txl *TransactionLayer) getClientTx(key string) (*ClientTx, bool) {
	return txl.clientTransactions.get(key)
	// tx, ok := txl.clientTransactions.get(key)
	// if !ok {
	// 	return nil, false
	// }
	// return tx.(*ClientTx), true
}

// RFC 17.2.3.
func (txl *TransactionLayer) getServerTx(key string) (*ServerTx, bool) {
	return txl.serverTransactions.get(key)
	// tx, ok := txl.serverTransactions.get(key)
	// if !ok {
	// 	return nil, false
	// }
	// return tx.(*ServerTx), true
}

func (txl *TransactionLayer) Close() {
	txl.clientTransactions.terminateAll()
	txl.serverTransactions.terminateAll()
	txl.confirmed.close()
	txl.serverTx.timers.close()
	txl.workers.close()
	txl.log.Debug("transaction layer closed")
}

func (txl *TransactionLayer) Transport() *TransportLayer {
	return txl.tpl
}
