package sip

// sidecar patch test: WithTransactionLayerNoTimer1xx leaves the layer's INVITE server
// transactions without Timer_1xx; without the option they still arm it.

import (
	"context"
	"net"
	"strings"
	"testing"
)

func TestTransactionLayerNoTimer1xx(t *testing.T) {
	for _, tc := range []struct {
		name  string
		opts  []TransactionLayerOption
		armed bool
	}{
		{"default", nil, true},
		{"NoTimer1xx", []TransactionLayerOption{WithTransactionLayerNoTimer1xx()}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			peer, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
			if err != nil {
				t.Fatal(err)
			}
			defer peer.Close()
			peerAddr := peer.LocalAddr().String()
			tp := NewTransportLayer(net.DefaultResolver, NewParser(), nil)
			defer tp.Close()
			txl := NewTransactionLayer(tp, tc.opts...)
			defer txl.Close()
			var armed, handled bool
			txl.OnRequest(func(req *Request, tx *ServerTx) {
				handled = true
				tx.mu.Lock()
				armed = tx.timer_1xx != nil
				tx.mu.Unlock()
				tx.Terminate()
			})
			if _, err := tp.udp.CreateConnection(context.TODO(), testCreateAddr(t, "127.0.0.1:0"),
				testCreateAddr(t, peerAddr), tp.handleMessage); err != nil {
				t.Fatal(err)
			}
			raw := strings.Join([]string{
				"INVITE sip:bob@127.0.0.1 SIP/2.0",
				"Via: SIP/2.0/UDP " + peerAddr + ";branch=z9hG4bK-t1xx",
				"From: <sip:alice@example.com>;tag=from1",
				"To: <sip:bob@example.com>",
				"Call-ID: timer1xx",
				"CSeq: 1 INVITE",
				"Content-Length: 0", "", ""}, "\r\n")
			msg, err := ParseMessage([]byte(raw))
			if err != nil {
				t.Fatal(err)
			}
			req := msg.(*Request)
			req.SetTransport("UDP")
			req.SetSource(peerAddr)
			if err := txl.handleRequest(req); err != nil {
				t.Fatal(err)
			}
			if !handled {
				t.Fatal("the INVITE did not reach the handler")
			}
			if armed != tc.armed {
				t.Errorf("Timer_1xx armed: %v, want %v", armed, tc.armed)
			}
		})
	}
}
