package sip

// sidecar patch test: an INVITE server transaction Confirmed by the ACK of its non-2xx
// final only absorbs retransmissions until Timer I (5 s on UDP): it lets go of the final
// response and of the CANCEL, and still waits for Timer I when terminated gracefully.

import (
	"bytes"
	"io"
	"log/slog"
	"runtime"
	"testing"
	"time"
	"weak"

	"github.com/emiago/sipgo/fakes"
)

func TestServerTxConfirmedKeepsNoResponse(t *testing.T) {
	restore := Timer_I
	Timer_I = time.Minute
	t.Cleanup(func() { Timer_I = restore })

	req, _, _ := testCreateInvite(t, "sip:127.0.0.99:5060", "UDP", "127.0.0.2:5060")
	conn := &UDPConnection{PacketConn: &fakes.UDPConn{
		Reader:  &bytes.Buffer{},
		Writers: map[string]io.Writer{"127.0.0.2:5060": &bytes.Buffer{}},
	}}
	conn.Ref(2)
	tx := NewServerTx("confirmed", req, conn, slog.Default())
	if err := tx.Init(); err != nil {
		t.Fatal(err)
	}
	defer tx.Terminate()

	cancel := NewRequest(CANCEL, req.Recipient)
	cancel.AppendHeader(HeaderClone(req.Via()))
	cancel.AppendHeader(HeaderClone(req.CallID()))
	if err := tx.Receive(cancel); err != nil { // answered 487 by the transaction
		t.Fatal(err)
	}
	tx.fsmMu.Lock()
	res := tx.fsmResp
	tx.fsmMu.Unlock()
	if res == nil || res.StatusCode != StatusRequestTerminated {
		t.Fatalf("after CANCEL: final %v, want 487", res)
	}
	resPtr, cancelPtr := weak.Make(res), weak.Make(cancel)
	res, cancel = nil, nil

	ack := NewRequest(ACK, req.Recipient)
	ack.AppendHeader(HeaderClone(req.Via()))
	ack.AppendHeader(HeaderClone(req.CallID()))
	if err := tx.Receive(ack); err != nil {
		t.Fatal(err)
	}
	if got := <-tx.Acks(); got != ack {
		t.Fatal("the ACK was not passed up on Acks")
	}
	ack = nil
	if err := compareFunctions(tx.currentFsmState(), tx.inviteStateConfirmed); err != nil {
		t.Fatal(err)
	}

	runtime.GC()
	runtime.GC()
	if resPtr.Value() != nil {
		t.Error("the Confirmed transaction still holds its final response until Timer I")
	}
	if cancelPtr.Value() != nil {
		t.Error("the Confirmed transaction still holds the CANCEL until Timer I")
	}

	tx.TerminateGracefully() // what the server does when the handler returns
	select {
	case <-tx.Done():
		t.Fatal("TerminateGracefully ended a Confirmed transaction before Timer I")
	default:
	}
}
