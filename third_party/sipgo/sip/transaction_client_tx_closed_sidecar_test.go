package sip

// sidecar patch test: a final response processed after the caller's Terminate (Client.Do
// returns as soon as the final is passed up, and its deferred Terminate may close the
// transaction before the FSM arms its timer) must not arm Timer D, K or M on the closed
// transaction, which would keep it reachable until the timer fires.

import (
	"bytes"
	"io"
	"log/slog"
	"net"
	"testing"

	"github.com/emiago/sipgo/fakes"
)

func TestClientTxNoTimerAfterTerminate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		method RequestMethod
		code   int
		timer  func(tx *ClientTx) bool
	}{
		{"non-INVITE final, Timer K", PUBLISH, StatusOK, func(tx *ClientTx) bool { return tx.timer_d != nil }},
		{"INVITE non-2xx final, Timer D", INVITE, 486, func(tx *ClientTx) bool { return tx.timer_d != nil }},
		{"INVITE 2xx, Timer M", INVITE, StatusOK, func(tx *ClientTx) bool { return tx.timer_m != nil }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := testCreateRequest(t, string(tc.method), "sip:127.0.0.99:5060", "UDP", "127.0.0.2:5060")
			req.raddr = Addr{IP: net.ParseIP("127.0.0.99"), Port: 5060}
			conn := &UDPConnection{PacketConn: &fakes.UDPConn{
				Reader:  &bytes.Buffer{},
				Writers: map[string]io.Writer{"127.0.0.99:5060": &bytes.Buffer{}},
			}}
			conn.Ref(2) // the connection layer's reference and the transaction's
			tx := NewClientTx("closed-"+tc.name, req, conn, slog.Default())
			if err := tx.Init(); err != nil {
				t.Fatal(err)
			}
			// The order Client.Do's race ends in: the caller's Terminate, then the FSM's
			// handling of the final (nothing reads Responses any more: done is closed).
			tx.Terminate()
			tx.Receive(NewResponseFromRequest(req, tc.code, "Final", nil))
			tx.mu.Lock()
			armed := tc.timer(tx)
			tx.mu.Unlock()
			if armed {
				t.Fatal("timer armed on a terminated transaction: it stays reachable until the timer fires")
			}
		})
	}
}
