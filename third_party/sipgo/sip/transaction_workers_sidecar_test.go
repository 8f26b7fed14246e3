package sip

// sidecar patch tests: the transaction layer runs each received message on a goroutine of
// its own, reused (msgWorkers): a blocked handler delays no other message, a goroutine is
// reused without allocating, and Close ends the waiting ones.

import (
	"net"
	"strings"
	"testing"
	"time"
)

func workersTestAck(t *testing.T, branch string) *Request {
	t.Helper()
	raw := strings.Join([]string{
		"ACK sip:bob@127.0.0.1 SIP/2.0",
		"Via: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bK-" + branch,
		"From: <sip:alice@example.com>;tag=from1",
		"To: <sip:bob@example.com>;tag=to1",
		"Call-ID: workers",
		"CSeq: 1 ACK",
		"Content-Length: 0", "", ""}, "\r\n")
	msg, err := ParseMessage([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	req := msg.(*Request)
	req.SetTransport("UDP")
	req.SetSource("127.0.0.1:5999")
	return req
}

func workersTestLayer(t *testing.T) *TransactionLayer {
	t.Helper()
	tp := NewTransportLayer(net.DefaultResolver, NewParser(), nil)
	t.Cleanup(func() { tp.Close() })
	return NewTransactionLayer(tp)
}

func TestTransactionLayerWorkerReusedSidecar(t *testing.T) {
	txl := workersTestLayer(t)
	defer txl.Close()
	done := make(chan struct{}, 1)
	txl.OnRequest(func(req *Request, tx *ServerTx) { done <- struct{}{} })
	ack := workersTestAck(t, "reuse")
	handle := func() {
		txl.handleMessage(ack)
		<-done
	}
	for i := 0; i < 10; i++ {
		handle()
	}
	// The handler's goroutine is waiting once it returned: wait for it to be back.
	for i := 0; i < 1000 && txl.workers.waiting() == 0; i++ {
		time.Sleep(time.Millisecond)
	}
	if txl.workers.waiting() == 0 {
		t.Fatal("no goroutine waiting for the next message after one was handled")
	}
	// One allocation: the ACK's transaction key. Upstream's `go` per message allocated
	// its closure too (2).
	allocs := testing.AllocsPerRun(200, func() {
		handle()
		for txl.workers.waiting() == 0 {
			time.Sleep(10 * time.Microsecond)
		}
	})
	if allocs > 1 {
		t.Errorf("a message handled with %.1f allocations, want <= 1 (a goroutine reused)", allocs)
	}
	txl.Close()
	if n := txl.workers.waiting(); n != 0 {
		t.Errorf("%d goroutines waiting after Close, want 0", n)
	}
	// Still handled after Close, on a goroutine of its own.
	handle()
}

func TestTransactionLayerBlockedHandlerDelaysNoOtherSidecar(t *testing.T) {
	txl := workersTestLayer(t)
	defer txl.Close()
	release := make(chan struct{})
	second := make(chan struct{})
	txl.OnRequest(func(req *Request, tx *ServerTx) {
		switch b, _ := req.Via().Params.Get("branch"); b {
		case "z9hG4bK-first":
			<-release
		case "z9hG4bK-second":
			close(second)
		}
	})
	// Goroutines waiting from earlier messages must not matter: make some.
	txl.handleMessage(workersTestAck(t, "warm"))
	txl.handleMessage(workersTestAck(t, "first"))
	txl.handleMessage(workersTestAck(t, "second"))
	select {
	case <-second:
	case <-time.After(10 * time.Second):
		t.Fatal("a message waited for the blocked handler of another")
	}
	close(release)
}

// A goroutine that waited for a whole sweep period ends; one used since the last sweep
// stays (the sweeps called directly here, the timer does it every msgWorkersSweep).
func TestTransactionLayerWorkersSweptSidecar(t *testing.T) {
	txl := workersTestLayer(t)
	defer txl.Close()
	txl.workers.period = time.Hour // the sweeps are this test's alone
	done := make(chan struct{}, 1)
	txl.OnRequest(func(req *Request, tx *ServerTx) { done <- struct{}{} })
	ack := workersTestAck(t, "sweep")
	handle := func() {
		txl.handleMessage(ack)
		<-done
		for i := 0; i < 1000 && txl.workers.waiting() == 0; i++ {
			time.Sleep(time.Millisecond)
		}
		if txl.workers.waiting() != 1 {
			t.Fatalf("%d goroutines waiting after a message, want 1", txl.workers.waiting())
		}
	}
	handle()
	txl.workers.sweepIdle() // it has not waited a whole period yet
	if n := txl.workers.waiting(); n != 1 {
		t.Fatalf("%d waiting after the first sweep, want 1", n)
	}
	handle() // used again: stays for the next period
	txl.workers.sweepIdle()
	if n := txl.workers.waiting(); n != 1 {
		t.Fatalf("%d waiting after a sweep that followed its use, want 1", n)
	}
	txl.workers.sweepIdle() // waited throughout: ends
	if n := txl.workers.waiting(); n != 0 {
		t.Fatalf("%d waiting after a whole period unused, want 0", n)
	}
	handle() // still handled, on a new goroutine
}
