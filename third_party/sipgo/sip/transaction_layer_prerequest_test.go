package sip

// sidecar patch test: WithTransactionLayerPreRequest answers a request statelessly before
// any server transaction exists for it.

import (
	"context"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestTransactionLayerPreRequestNoTransaction(t *testing.T) {
	peer, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	peerAddr := peer.LocalAddr().String()

	tp := NewTransportLayer(net.DefaultResolver, NewParser(), nil)
	defer tp.Close()
	var filtered, handled atomic.Int32
	txl := NewTransactionLayer(tp, WithTransactionLayerPreRequest(func(req *Request) *Response {
		filtered.Add(1)
		if req.Method != INVITE {
			return nil
		}
		return NewResponseFromRequest(req, StatusServiceUnavailable, "Service Unavailable", nil)
	}))
	txl.OnRequest(func(req *Request, tx *ServerTx) { handled.Add(1) })
	if _, err := tp.udp.CreateConnection(context.TODO(), testCreateAddr(t, "127.0.0.1:0"),
		testCreateAddr(t, peerAddr), tp.handleMessage); err != nil {
		t.Fatal(err)
	}

	request := func(method, branch string) *Request {
		raw := strings.Join([]string{
			method + " sip:bob@127.0.0.1 SIP/2.0",
			"Via: SIP/2.0/UDP " + peerAddr + ";branch=" + branch,
			"From: <sip:alice@example.com>;tag=from1",
			"To: <sip:bob@example.com>",
			"Call-ID: prerequest-" + branch,
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

	if err := txl.handleRequest(request("INVITE", "z9hG4bK-refused")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4096)
	peer.SetReadDeadline(time.Now().Add(2 * time.Second))
	n, _, err := peer.ReadFromUDP(buf)
	if err != nil {
		t.Fatalf("no stateless answer: %v", err)
	}
	msg, err := ParseMessage(buf[:n])
	if err != nil {
		t.Fatal(err)
	}
	if res, ok := msg.(*Response); !ok || res.StatusCode != StatusServiceUnavailable {
		t.Fatalf("got %s, want 503", msg.String())
	}
	if handled.Load() != 0 {
		t.Error("the refused INVITE reached the request handler")
	}
	txl.serverTransactions.mu.RLock()
	left := len(txl.serverTransactions.items)
	txl.serverTransactions.mu.RUnlock()
	if left != 0 {
		t.Errorf("%d server transactions after a refused INVITE, want 0", left)
	}

	// A request the hook lets through gets its transaction and its handler.
	if err := txl.handleRequest(request("OPTIONS", "z9hG4bK-passed")); err != nil {
		t.Fatal(err)
	}
	if handled.Load() != 1 || filtered.Load() != 2 {
		t.Errorf("handled %d, filtered %d: want 1 and 2", handled.Load(), filtered.Load())
	}
}
