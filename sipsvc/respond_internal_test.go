package sipsvc

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/sidecar-voip/sidecar/config"
)

// failingTx is a server transaction (sipgo's interface, whose real implementation is
// sipgo's job) whose Respond fails from the failFrom-th call on (1-based), as sipgo's does
// after a dropped connection (first send) or after Timer L (a retransmission).
type failingTx struct {
	sip.ServerTransaction // nil: only Respond is used
	failFrom              int

	mu    sync.Mutex
	calls int
}

func (tx *failingTx) Respond(*sip.Response) error {
	tx.mu.Lock()
	defer tx.mu.Unlock()
	tx.calls++
	if tx.calls >= tx.failFrom {
		return sip.ErrTransactionTerminated
	}
	return nil
}

func (tx *failingTx) sent() int {
	tx.mu.Lock()
	defer tx.mu.Unlock()
	return tx.calls
}

// respondUntilAck: a failed first send is an error of its own (not ErrNoACK); a failed
// retransmission stops the retransmissions but not the wait for the ACK, which still ends
// it well (nil) or, missing, with ErrNoACK at the ack-timeout.
func TestRespondUntilAckSendFailures(t *testing.T) {
	const ackTimeout = 2 * time.Second // retransmissions (T1 = 500 ms) at 0.5 s and 1.5 s
	tests := []struct {
		name     string
		failFrom int
		ackAfter time.Duration // 0: never
		want     error
		minWait  time.Duration
	}{
		{name: "first send fails", failFrom: 1, want: sip.ErrTransactionTerminated},
		{name: "retransmission fails, ACK comes", failFrom: 2, ackAfter: 1700 * time.Millisecond},
		{name: "retransmission fails, no ACK", failFrom: 2, want: ErrNoACK, minWait: ackTimeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := &config.SIP{ACKTimeout: ackTimeout}
			c := &call{s: &Server{cfg: cfg, log: slog.New(slog.DiscardHandler)}}
			c.startLog.Store(slog.New(slog.DiscardHandler))
			c.ctx, c.cancel = context.WithCancelCause(context.Background())
			defer c.cancel(nil)
			tx := &failingTx{failFrom: tt.failFrom}
			acked := make(chan struct{})
			if tt.ackAfter > 0 {
				timer := time.AfterFunc(tt.ackAfter, func() { close(acked) })
				defer timer.Stop()
			}
			start := time.Now()
			err := c.respondUntilAck(tx, sip.NewResponse(200, "OK"), acked)
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Fatalf("err %v, want %v", err, tt.want)
			}
			if tt.want == sip.ErrTransactionTerminated && errors.Is(err, ErrNoACK) {
				t.Errorf("a failed first send reported as ErrNoACK")
			}
			if waited := time.Since(start); waited < tt.minWait {
				t.Errorf("returned after %v, before the ack-timeout %v", waited, tt.minWait)
			}
			if tt.failFrom == 2 && tx.sent() != 2 {
				t.Errorf("%d sends, want 2 (retransmissions stop at the first failure)", tx.sent())
			}
		})
	}
}
