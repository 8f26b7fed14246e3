package sip

// sidecar patch tests: an INVITE server transaction Confirmed by the ACK of its non-2xx
// final ends at once, its key held by the transaction layer (confirmedKeys) until its
// Timer I to absorb the retransmitted ACKs and INVITEs, instead of the whole transaction.

import (
	"context"
	"net"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"weak"
)

func TestConfirmedKeysExpire(t *testing.T) {
	c := newConfirmedKeys()
	defer c.close()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.addLocked(0, "a", 10)
	c.addLocked(5, "b", 10)
	if !c.hasLocked(9, "a") || !c.hasLocked(14, "b") {
		t.Fatal("a key not held before its deadline")
	}
	if c.hasLocked(10, "a") {
		t.Fatal("a held at its deadline")
	}
	// b's expiry removes it from the map and the queue; the set then starts afresh.
	c.expireLocked(15)
	if len(c.m) != 0 || c.q != nil {
		t.Fatalf("after every deadline: %d keys, queue %v, want none", len(c.m), c.q)
	}
	// A key added again after it expired is held for its new deadline: the old entry
	// still queued does not remove it.
	c.addLocked(20, "k", 10)
	c.hasLocked(30, "k") // expired: removed from the map, its entry still queued
	c.addLocked(31, "k", 10)
	c.expireLocked(35) // the first entry's turn
	if !c.hasLocked(40, "k") {
		t.Fatal("a key added again was removed by its earlier entry's expiry")
	}
	if len(c.q) != 1 || c.q[0].deadline != 41 {
		t.Fatalf("queue %v, want the one entry due at 41", c.q)
	}
}

// The timer removes the keys by itself once expired, and stops when none are left.
func TestConfirmedKeysTimerEmpties(t *testing.T) {
	c := newConfirmedKeys()
	defer c.close()
	c.add("a", time.Millisecond)
	c.add("b", 2*time.Millisecond)
	deadline := time.Now().Add(10 * time.Second)
	for {
		c.mu.Lock()
		n, armed := len(c.q), c.timer != nil
		c.mu.Unlock()
		if n == 0 && !armed {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d keys queued, timer armed %v, 10 s after they expired", n, armed)
		}
		time.Sleep(time.Millisecond)
	}
	if c.has("a") || c.has("b") {
		t.Fatal("expired keys still held")
	}
}

func TestTransactionLayerConfirmedKeepsKeyOnly(t *testing.T) {
	restore := Timer_I
	Timer_I = time.Minute // other tests of the package leave it at 1 ms (SetTimers)
	t.Cleanup(func() { Timer_I = restore })

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
	var handled atomic.Int32
	var txRef weak.Pointer[ServerTx]
	txl.OnRequest(func(req *Request, tx *ServerTx) {
		handled.Add(1)
		txRef = weak.Make(tx)
		if req.IsInvite() {
			if err := tx.Respond(NewResponseFromRequest(req, StatusBusyHere, "Busy Here", nil)); err != nil {
				t.Errorf("respond 486: %v", err)
			}
		}
	})
	if _, err := tp.udp.CreateConnection(context.TODO(), testCreateAddr(t, "127.0.0.1:0"),
		testCreateAddr(t, peerAddr), tp.handleMessage); err != nil {
		t.Fatal(err)
	}

	const branch = "z9hG4bK-confirmed"
	request := func(method, cseqMethod string) *Request {
		raw := strings.Join([]string{
			method + " sip:bob@127.0.0.1 SIP/2.0",
			"Via: SIP/2.0/UDP " + peerAddr + ";branch=" + branch,
			"From: <sip:alice@example.com>;tag=from1",
			"To: <sip:bob@example.com>",
			"Call-ID: confirmed-1",
			"CSeq: 1 " + cseqMethod,
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
	buf := make([]byte, 4096)
	read := func(what string) *Response {
		t.Helper()
		peer.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, _, err := peer.ReadFromUDP(buf)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		msg, err := ParseMessage(buf[:n])
		if err != nil {
			t.Fatal(err)
		}
		res, ok := msg.(*Response)
		if !ok {
			t.Fatalf("%s: got %s", what, msg.String())
		}
		return res
	}
	stored := func() int {
		txl.serverTransactions.mu.RLock()
		defer txl.serverTransactions.mu.RUnlock()
		return len(txl.serverTransactions.items)
	}

	invite := request("INVITE", "INVITE")
	inviteRef := weak.Make(invite)
	if err := txl.handleRequest(invite); err != nil {
		t.Fatal(err)
	}
	invite = nil
	if res := read("the INVITE's answer"); res.StatusCode != StatusBusyHere {
		t.Fatalf("INVITE answered %d, want 486", res.StatusCode)
	}
	if err := txl.handleRequest(request("ACK", "ACK")); err != nil {
		t.Fatal(err)
	}
	if n := stored(); n != 0 {
		t.Fatalf("%d server transactions after the ACK of the 486, want 0 (its key alone held)", n)
	}
	if n := txl.confirmed.len(); n != 1 {
		t.Fatalf("%d confirmed keys held, want 1", n)
	}
	// The goroutine that answered the INVITE may still be on its way out, holding the
	// transaction on its stack: collect until both are gone, for at most 2 s.
	for i := 0; i < 200 && (txRef.Value() != nil || inviteRef.Value() != nil); i++ {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
	if txRef.Value() != nil {
		t.Error("the Confirmed transaction still reachable")
	}
	if inviteRef.Value() != nil {
		t.Error("the Confirmed transaction's INVITE still reachable")
	}

	// Retransmissions of the INVITE and the ACK are absorbed: no new transaction, no
	// handler, no answer (the next datagram the peer gets is the CANCEL's 200).
	for _, m := range []string{"INVITE", "ACK", "INVITE"} {
		if err := txl.handleRequest(request(m, m)); err != nil {
			t.Fatal(err)
		}
	}
	if handled.Load() != 1 || stored() != 0 {
		t.Fatalf("after retransmissions: %d requests handled, %d transactions; want 1 and 0",
			handled.Load(), stored())
	}
	if err := txl.handleRequest(request("CANCEL", "CANCEL")); err != nil {
		t.Fatal(err)
	}
	if res := read("the CANCEL's answer"); res.StatusCode != StatusOK || res.CSeq().MethodName != CANCEL {
		t.Fatalf("after the retransmissions and a CANCEL, the peer got %s (CSeq %s), want the CANCEL's 200",
			res.StartLine(), res.CSeq().Value())
	}
	if handled.Load() != 1 || stored() != 0 {
		t.Fatalf("after the CANCEL: %d requests handled, %d transactions; want 1 and 0", handled.Load(), stored())
	}
}
