package sip

// sidecar patch tests: a transaction layer's server transactions run Timer L and Timer J on
// the layer's one timer (serverTxTimers), not a time.AfterFunc each; a timer fires the
// transaction's FSM input, a stopped one does not, and a terminated transaction is not
// reachable from the timers.

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"
	"weak"

	"github.com/emiago/sipgo/fakes"
)

// timersTestTx is an INVITE server transaction answered 200 (Accepted, waiting for Timer L)
// on w.
func timersTestTx(t *testing.T, w *serverTxTimers, key string) *ServerTx {
	t.Helper()
	req, _, _ := testCreateInvite(t, "sip:127.0.0.99:5060", "UDP", "127.0.0.2:5060")
	conn := &UDPConnection{PacketConn: &fakes.UDPConn{
		Reader:  &bytes.Buffer{},
		Writers: map[string]io.Writer{"127.0.0.2:5060": &bytes.Buffer{}},
	}}
	tx := NewServerTx(key, req, conn, slog.Default())
	tx.layer = &serverTxLayer{timers: w}
	tx.noTimer1xx = true
	if err := tx.Init(); err != nil {
		t.Fatal(err)
	}
	if err := tx.Respond(NewResponseFromRequest(req, StatusOK, "OK", nil)); err != nil {
		t.Fatal(err)
	}
	return tx
}

func TestServerTxTimersFireAndStopSidecar(t *testing.T) {
	w := newServerTxTimers()
	defer w.close()
	stopped := timersTestTx(t, w, "stopped")
	fired := timersTestTx(t, w, "fired")
	// Timer L of both re-armed short: the stopped one earlier than the fired one.
	stopped.mu.Lock()
	w.stop(stopped, stopped.timerSlot)
	stopped.timerSlot = w.arm(stopped, time.Millisecond, server_input_timer_l)
	stopped.mu.Unlock()
	fired.mu.Lock()
	w.stop(fired, fired.timerSlot)
	fired.timerSlot = w.arm(fired, 5*time.Millisecond, server_input_timer_l)
	fired.mu.Unlock()
	if fired.timer_l != nil || stopped.timer_l != nil {
		t.Fatal("a transaction with a layer armed its own Timer L")
	}
	if n := w.armed(); n != 2 {
		t.Fatalf("%d timers armed, want 2", n)
	}
	stopped.mu.Lock()
	w.stop(stopped, stopped.timerSlot)
	stopped.mu.Unlock()

	select {
	case <-fired.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("Timer L on the layer's timers did not end the transaction")
	}
	if err := fired.Err(); err != ErrTransactionTerminated {
		t.Errorf("fired transaction: error %v, want %v", err, ErrTransactionTerminated)
	}
	if stopped.Ended() {
		t.Error("a stopped Timer L (due before the one that fired) ended its transaction")
	}
	if n := w.armed(); n != 0 {
		t.Errorf("%d timers armed after one fired and one stopped, want 0", n)
	}
	stopped.Terminate()
}

func TestServerTxTimersReleaseOnTerminateSidecar(t *testing.T) {
	w := newServerTxTimers()
	defer w.close()
	ptr := func() weak.Pointer[ServerTx] {
		tx := timersTestTx(t, w, "released")
		if n := w.armed(); n != 1 {
			t.Fatalf("%d timers armed after the 2xx, want 1 (Timer L)", n)
		}
		tx.Terminate()
		if n := w.armed(); n != 0 {
			t.Fatalf("%d timers armed after Terminate, want 0", n)
		}
		return weak.Make(tx)
	}()
	for i := 0; i < 200 && ptr.Value() != nil; i++ {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
	if ptr.Value() != nil {
		t.Fatal("terminated transaction still reachable (held by the layer's timers)")
	}
}

func TestServerTxTimersArmStopNoAllocSidecar(t *testing.T) {
	w := newServerTxTimers()
	defer w.close()
	tx := &ServerTx{}
	// Warm up: the runtime timer, the slot and the heap's arrays.
	for i := 0; i < 100; i++ {
		w.stop(tx, w.arm(tx, time.Hour, server_input_timer_l))
	}
	allocs := testing.AllocsPerRun(1000, func() {
		w.stop(tx, w.arm(tx, time.Hour, server_input_timer_l))
	})
	if allocs > 0 {
		t.Errorf("arm and stop: %.1f allocations, want 0 (time.AfterFunc: a timer and a closure)", allocs)
	}
	// Stopped entries do not pile up: the heap is compacted.
	if len(w.heap) > 64 {
		t.Errorf("%d heap entries for 0 armed timers", len(w.heap))
	}
}

func TestServerTxTimersHeapOrderSidecar(t *testing.T) {
	w := newServerTxTimers()
	defer w.close()
	txs := make([]*ServerTx, 50)
	for i := range txs {
		txs[i] = &ServerTx{}
		// Deadlines out of order, all in the far future.
		w.arm(txs[i], time.Duration(1+(i*37)%50)*time.Hour, server_input_timer_l)
	}
	var last int64
	for len(w.heap) > 0 {
		it := w.pop()
		if it.deadline < last {
			t.Fatalf("heap popped deadline %d after %d", it.deadline, last)
		}
		last = it.deadline
	}
}

// TestTransactionLayerTimerJOnLayerSidecar: through a layer, a non-INVITE answered 200
// over UDP arms Timer J on the layer's timers (no timer of its own) and its Terminate
// stops it; fails without the change (timer_j set, nothing on the layer).
func TestTransactionLayerTimerJOnLayerSidecar(t *testing.T) {
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
	var ownTimer bool
	var onLayer, afterTerminate int
	txl.OnRequest(func(req *Request, tx *ServerTx) {
		if err := tx.Respond(NewResponseFromRequest(req, StatusOK, "OK", nil)); err != nil {
			t.Error(err)
		}
		tx.mu.Lock()
		ownTimer = tx.timer_j != nil
		tx.mu.Unlock()
		onLayer = txl.serverTx.timers.armed()
		tx.Terminate()
		afterTerminate = txl.serverTx.timers.armed()
	})
	if _, err := tp.udp.CreateConnection(context.TODO(), testCreateAddr(t, "127.0.0.1:0"),
		testCreateAddr(t, peerAddr), tp.handleMessage); err != nil {
		t.Fatal(err)
	}
	raw := strings.Join([]string{
		"BYE sip:bob@127.0.0.1 SIP/2.0",
		"Via: SIP/2.0/UDP " + peerAddr + ";branch=z9hG4bK-timerj",
		"From: <sip:alice@example.com>;tag=from1",
		"To: <sip:bob@example.com>;tag=to1",
		"Call-ID: timerj",
		"CSeq: 2 BYE",
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
	if ownTimer {
		t.Error("the transaction armed its own Timer J")
	}
	if onLayer != 1 {
		t.Errorf("%d timers on the layer after the 200, want 1 (Timer J)", onLayer)
	}
	if afterTerminate != 0 {
		t.Errorf("%d timers on the layer after Terminate, want 0", afterTerminate)
	}
}

// TestServerTxTimersBlockedFsmDelaysNoOtherSidecar: a transaction whose FSM lock is held
// (a write to a stalled TCP peer holds it for as long as the write blocks) does not hold
// up another transaction's Timer L due after it in the same firing; it gets its own input once the lock is
// free.
func TestServerTxTimersBlockedFsmDelaysNoOtherSidecar(t *testing.T) {
	w := newServerTxTimers()
	defer w.close()
	blocked := timersTestTx(t, w, "blocked")
	other := timersTestTx(t, w, "other")
	blocked.fsmMu.Lock()
	blocked.mu.Lock()
	w.stop(blocked, blocked.timerSlot)
	blocked.timerSlot = w.arm(blocked, time.Millisecond, server_input_timer_l)
	blocked.mu.Unlock()
	other.mu.Lock()
	w.stop(other, other.timerSlot)
	other.timerSlot = w.arm(other, 2*time.Millisecond, server_input_timer_l)
	other.mu.Unlock()

	select { // both due at the same 4 ms tick: one firing, the blocked one first
	case <-other.Done():
	case <-time.After(10 * time.Second):
		blocked.fsmMu.Unlock()
		t.Fatal("Timer L of a transaction waited behind another one's held FSM lock")
	}
	if blocked.Ended() {
		t.Error("the transaction whose FSM lock is held ended")
	}
	blocked.fsmMu.Unlock()
	select {
	case <-blocked.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("Timer L of the blocked transaction never ran once its FSM lock was free")
	}
}
