package sip

// sidecar patch test: a terminated INVITE server transaction must not stay reachable
// through its Timer L (RFC 6026) until the timer fires 64*T1 later.

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

func TestServerTxTerminateReleasesTimerL(t *testing.T) {
	ptr := func() weak.Pointer[ServerTx] {
		req, _, _ := testCreateInvite(t, "sip:127.0.0.99:5060", "UDP", "127.0.0.2:5060")
		conn := &UDPConnection{PacketConn: &fakes.UDPConn{
			Reader:  &bytes.Buffer{},
			Writers: map[string]io.Writer{"127.0.0.2:5060": &bytes.Buffer{}},
		}}
		tx := NewServerTx("timer-l", req, conn, slog.Default())
		if err := tx.Init(); err != nil {
			t.Fatal(err)
		}
		if err := tx.Respond(NewResponseFromRequest(req, StatusOK, "OK", nil)); err != nil {
			t.Fatal(err)
		}
		tx.mu.Lock()
		armed := tx.timer_l != nil
		tx.mu.Unlock()
		if !armed {
			t.Fatal("Timer L not armed after the 2xx")
		}
		tx.Terminate()
		tx.mu.Lock()
		left := tx.timer_l
		tx.mu.Unlock()
		if left != nil {
			t.Error("Timer L still set after Terminate")
		}
		return weak.Make(tx)
	}()
	// A goroutine the transaction started may still be on its way out: collect until the
	// transaction is gone, for at most 2 s (Timer L would hold it for 64*T1 = 32 s).
	for i := 0; i < 200 && ptr.Value() != nil; i++ {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
	if ptr.Value() != nil {
		t.Fatal("terminated transaction still reachable after GC (held by its Timer L)")
	}
}
