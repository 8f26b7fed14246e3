package sip

// sidecar patch tests: an ACK matching no server transaction (the ACK of a 2xx) reaches
// the request handler without a transaction of its own (ackRequest, ackServerTx).

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"
)

func TestAckOutsideTransactionGetsNone(t *testing.T) {
	peer, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	peerAddr := peer.LocalAddr().String()

	tp := NewTransportLayer(net.DefaultResolver, NewParser(), nil)
	defer tp.Close()
	txl := NewTransactionLayer(tp)
	defer txl.Close()
	type seen struct {
		method RequestMethod
		tx     *ServerTx
		stored int
	}
	got := make(chan seen, 4)
	stored := func() int {
		txl.serverTransactions.mu.RLock()
		defer txl.serverTransactions.mu.RUnlock()
		return len(txl.serverTransactions.items)
	}
	txl.OnRequest(func(req *Request, tx *ServerTx) {
		got <- seen{req.Method, tx, stored()}
	})
	if _, err := tp.udp.CreateConnection(context.TODO(), testCreateAddr(t, "127.0.0.1:0"),
		testCreateAddr(t, peerAddr), tp.handleMessage); err != nil {
		t.Fatal(err)
	}
	request := func(method, branch string) *Request {
		raw := strings.Join([]string{
			method + " sip:bob@127.0.0.1 SIP/2.0",
			"Via: SIP/2.0/UDP " + peerAddr + ";branch=" + branch,
			"From: <sip:alice@example.com>;tag=from1",
			"To: <sip:bob@example.com>;tag=to1",
			"Call-ID: ack-outside-1",
			"CSeq: 1 " + method,
			"Content-Length: 0", "", ""}, "\r\n")
		msg, err := ParseMessage([]byte(raw))
		if err != nil {
			t.Fatal(err)
		}
		req := msg.(*Request)
		req.SetTransport("UDP")
		req.SetSource(peerAddr)
		return req
	}

	// The ACK of a 2xx: a branch of its own, no transaction matches.
	if err := txl.handleRequest(request("ACK", "z9hG4bK-ack2xx")); err != nil {
		t.Fatal(err)
	}
	s := <-got
	if s.method != ACK || s.tx != nil || s.stored != 0 {
		t.Fatalf("ACK outside a transaction handled with tx %v and %d stored transactions, want none", s.tx, s.stored)
	}
	if n := stored(); n != 0 {
		t.Fatalf("%d server transactions after the ACK, want 0", n)
	}
	// Any other request still gets its transaction.
	if err := txl.handleRequest(request("OPTIONS", "z9hG4bK-opt")); err != nil {
		t.Fatal(err)
	}
	if s := <-got; s.tx == nil || s.stored != 1 {
		t.Fatalf("OPTIONS handled with tx %v and %d stored transactions, want its own", s.tx, s.stored)
	} else {
		s.tx.Terminate()
	}

	// Bound: the ACK's path allocates nothing of a transaction (upstream: the transaction,
	// its done channel, FSM and callback closures, a connection lookup, about 10).
	ack := request("ACK", "z9hG4bK-ack2xx-again")
	txl.OnRequest(func(req *Request, tx *ServerTx) {})
	if n := testing.AllocsPerRun(100, func() {
		if err := txl.ackRequest(ack); err != nil {
			t.Fatal(err)
		}
	}); n > 0 {
		t.Fatalf("an ACK outside a transaction: %.0f allocations, want 0", n)
	}
}

// The ServerTransaction a handler gets for such an ACK is over already, and a response
// sent through it still goes out (statelessly) on the ACK's connection.
func TestAckServerTxIsOver(t *testing.T) {
	peer, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	peerAddr := peer.LocalAddr().String()
	tp := NewTransportLayer(net.DefaultResolver, NewParser(), nil)
	defer tp.Close()
	if _, err := tp.udp.CreateConnection(context.TODO(), testCreateAddr(t, "127.0.0.1:0"),
		testCreateAddr(t, peerAddr), tp.handleMessage); err != nil {
		t.Fatal(err)
	}
	raw := "ACK sip:bob@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP " + peerAddr + ";branch=z9hG4bK-a\r\n" +
		"From: <sip:alice@example.com>;tag=f\r\nTo: <sip:bob@example.com>;tag=t\r\nCall-ID: over-1\r\n" +
		"CSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n"
	msg, err := ParseMessage([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	req := msg.(*Request)
	req.SetTransport("UDP")
	req.SetSource(peerAddr)

	tx := NewAckServerTx(tp, req)
	select {
	case <-tx.Done():
	default:
		t.Fatal("Done not closed")
	}
	if tx.Err() != ErrTransactionTerminated || tx.OnTerminate(func(string, error) {}) ||
		tx.OnCancel(func(*Request) {}) || tx.Acks() != nil {
		t.Fatal("the ACK's transaction is not over")
	}
	tx.Terminate()
	if err := tx.Respond(NewResponseFromRequest(req, StatusMethodNotAllowed, "Method Not Allowed", nil)); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 2048)
	peer.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, _, err := peer.ReadFromUDP(buf)
	if err != nil {
		t.Fatalf("the response: %v", err)
	}
	if !strings.HasPrefix(string(buf[:n]), "SIP/2.0 405 Method Not Allowed\r\n") {
		t.Fatalf("peer got %q", buf[:n])
	}
}
