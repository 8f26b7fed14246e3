package sip

// sidecar patch test: the transaction layer handles received messages on kept worker
// goroutines (msgWorkers), not on a new goroutine per message, and a handler that blocks
// never holds up the next message.

import (
	"bytes"
	"net"
	"runtime"
	"strconv"
	"testing"
	"time"
)

// goroutineID is the id runtime.Stack prints for the calling goroutine.
func goroutineID(t *testing.T) int {
	var buf [64]byte
	b := buf[:runtime.Stack(buf[:], false)]
	b = bytes.TrimPrefix(b, []byte("goroutine "))
	id, err := strconv.Atoi(string(b[:bytes.IndexByte(b, ' ')]))
	if err != nil {
		t.Errorf("goroutine id in %q: %v", buf[:], err)
	}
	return id
}

func workersTestResponse(callID string) *Response {
	res := NewResponse(StatusOK, "OK")
	params := NewParams()
	params.Add("branch", "z9hG4bK-"+callID)
	res.AppendHeader(&ViaHeader{ProtocolName: "SIP", ProtocolVersion: "2.0", Transport: "UDP",
		Host: "127.0.0.1", Port: 5099, Params: params})
	res.AppendHeader(&CSeqHeader{SeqNo: 1, MethodName: BYE})
	callid := CallIDHeader(callID)
	res.AppendHeader(&callid)
	return res
}

func TestTransactionLayerReusesWorkerGoroutine(t *testing.T) {
	ids := make(chan int)
	tp := NewTransportLayer(net.DefaultResolver, NewParser(), nil)
	txl := NewTransactionLayer(tp, WithTransactionLayerUnhandledResponseHandler(func(*Response) {
		ids <- goroutineID(t)
	}))
	defer txl.Close()

	// One message at a time: each after the previous one was handled, so a worker waits.
	seen := map[int]bool{}
	for i := range 50 {
		txl.handleMessage(workersTestResponse("w" + strconv.Itoa(i)))
		seen[<-ids] = true
	}
	// Upstream: 50 goroutines, one per message. A worker hands back to its select only after
	// the handler returned, so the next message may race it and start a second worker.
	if len(seen) > 5 {
		t.Errorf("50 messages handled one after another ran on %d goroutines, want a few kept workers", len(seen))
	}
}

func TestTransactionLayerWorkersDoNotQueueBehindBlockedHandler(t *testing.T) {
	release := make(chan struct{})
	handled := make(chan string, 2)
	tp := NewTransportLayer(net.DefaultResolver, NewParser(), nil)
	txl := NewTransactionLayer(tp, WithTransactionLayerUnhandledResponseHandler(func(r *Response) {
		id := r.CallID().Value()
		if id == "blocked" {
			<-release // waits for the next message, as a handler may
		}
		handled <- id
	}))
	defer txl.Close()

	txl.handleMessage(workersTestResponse("blocked"))
	txl.handleMessage(workersTestResponse("next"))
	select {
	case id := <-handled:
		if id != "next" {
			t.Fatalf("handled %q first, want next", id)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the second message waited for the blocked handler")
	}
	close(release)
	if id := <-handled; id != "blocked" {
		t.Fatalf("handled %q, want blocked", id)
	}
}
