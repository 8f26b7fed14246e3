package sidecartest

import (
	"fmt"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// sidecar patch: the ACK of a non-2xx final is put in the transaction's one-slot Acks
// channel, not handed to a goroutine that blocks until Timer I ends the transaction.
// N calls are rejected with 486 over real UDP, each ACKed, with no one reading Acks; with
// Timer I made long, upstream keeps one goroutine per rejected call until it fires, and
// the transaction with its INVITE (the patch holds the key alone: confirmedKeys).
func TestServerTxNon2xxAckHoldsNoGoroutine(t *testing.T) {
	const calls = 400
	restore := sip.Timer_I
	sip.Timer_I = time.Minute // the rejected transactions stay Confirmed for the whole test
	t.Cleanup(func() { sip.Timer_I = restore })

	addr, stop := rejectingServer(t, func(req *sip.Request, tx sip.ServerTransaction) {
		if err := tx.Respond(sip.NewResponseFromRequest(req, 486, "Busy Here", nil)); err != nil {
			t.Errorf("respond 486: %v", err)
		}
	})
	defer stop()
	c := dialUAC(t, addr)
	defer c.Close()

	// Warm up (the server's read loop, first-use allocations), then take the baseline.
	c.rejectedCall(t, "warm")
	baseG, baseHeap := settle()

	for i := range calls {
		c.rejectedCall(t, fmt.Sprintf("c%d", i))
	}

	// The ACKs are handled on goroutines of the transaction layer: wait for those to end.
	bound := baseG + calls/20
	deadline := time.Now().Add(10 * time.Second)
	g := runtime.NumGoroutine()
	for g > bound && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		g = runtime.NumGoroutine()
	}
	_, heap := settle()
	perCall := int64(heap-baseHeap) / calls
	t.Logf("after %d rejected and ACKed calls (transactions still in Timer I): goroutines %d -> %d, live heap and stacks %d bytes per call",
		calls, baseG, g, perCall)
	if g > bound {
		t.Fatalf("%d goroutines after %d rejected calls, baseline %d: ACKs of non-2xx finals hold a goroutine each until Timer I", g, calls, baseG)
	}
	// sidecar patch (confirmedKeys): the transaction ends on the ACK, its key alone held
	// until Timer I: 4,276 B per call before (the transaction, its INVITE, its Timer I, the
	// ACK unread in Acks), ~150 B after.
	if perCall > maxConfirmedBytes {
		t.Fatalf("%d bytes live per rejected call held for Timer I, want <= %d: the Confirmed transaction is kept, not its key",
			perCall, maxConfirmedBytes)
	}
}

// maxConfirmedBytes bounds the live heap per INVITE server transaction Confirmed by the ACK
// of its non-2xx final, until Timer I: its key in the layer's set (the key string, a map
// entry, a queue entry).
const maxConfirmedBytes = 512

// settle returns the goroutines and the live heap plus the goroutine stacks in use.
func settle() (goroutines int, heap uint64) {
	var ms runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return runtime.NumGoroutine(), ms.HeapAlloc + ms.StackInuse
}

// The ACK still reaches a reader of Acks: DialogServerSession.WriteResponse, which waits
// for it after a non-2xx final, returns on it, not at the end of the transaction.
func TestDialogServerRejectGetsAck(t *testing.T) {
	restore := sip.Timer_I
	sip.Timer_I = time.Minute // without the ACK, WriteResponse would wait for Timer I
	t.Cleanup(func() { sip.Timer_I = restore })

	ua, err := sipgo.NewUA()
	if err != nil {
		t.Fatal(err)
	}
	defer ua.Close()
	cli, err := sipgo.NewClient(ua)
	if err != nil {
		t.Fatal(err)
	}
	dialogs := sipgo.NewDialogServerCache(cli, sip.ContactHeader{Address: sip.Uri{User: "uas", Host: "127.0.0.1"}})
	returned := make(chan error, 8)
	addr, stop := rejectingServer(t, func(req *sip.Request, tx sip.ServerTransaction) {
		d, err := dialogs.ReadInvite(req, tx)
		if err != nil {
			returned <- err
			return
		}
		returned <- d.Respond(486, "Busy Here", nil)
	})
	defer stop()
	c := dialUAC(t, addr)
	defer c.Close()
	for i := range 3 {
		c.rejectedCall(t, fmt.Sprintf("dlg%d", i))
		select {
		case err := <-returned:
			if err != nil {
				t.Fatalf("call %d: %v", i, err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("call %d: WriteResponse(486) still waiting 10 s after the ACK was sent", i)
		}
	}
}

// rejectingServer runs handle for every INVITE, over UDP.
func rejectingServer(t *testing.T, handle func(req *sip.Request, tx sip.ServerTransaction)) (addr string, stop func()) {
	t.Helper()
	ua, err := sipgo.NewUA()
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sipgo.NewServer(ua)
	if err != nil {
		t.Fatal(err)
	}
	srv.OnInvite(handle)
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.ServeUDP(pc)
	}()
	return pc.LocalAddr().String(), func() {
		ua.Close()
		pc.Close()
		<-done
	}
}

type uac struct {
	*net.UDPConn
	buf []byte
}

func dialUAC(t *testing.T, addr string) *uac {
	t.Helper()
	raddr, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.DialUDP("udp", nil, raddr)
	if err != nil {
		t.Fatal(err)
	}
	return &uac{UDPConn: conn, buf: make([]byte, 65535)}
}

// rejectedCall sends an INVITE, waits for its final answer and ACKs it (RFC 3261 17.1.1.3:
// same branch, the To tag of the answer).
func (c *uac) rejectedCall(t *testing.T, id string) {
	t.Helper()
	local := c.LocalAddr().String()
	remote := c.RemoteAddr().String()
	branch := "z9hG4bK-" + id
	head := func(method string) string {
		return method + " sip:busy@" + remote + " SIP/2.0\r\n" +
			"Via: SIP/2.0/UDP " + local + ";branch=" + branch + "\r\n" +
			"Max-Forwards: 70\r\n" +
			"From: <sip:alice@" + local + ">;tag=f-" + id + "\r\n"
	}
	invite := head("INVITE") +
		"To: <sip:busy@" + remote + ">\r\n" +
		"Call-ID: " + id + "@linger\r\n" +
		"CSeq: 1 INVITE\r\n" +
		"Contact: <sip:alice@" + local + ">\r\n" +
		"Content-Length: 0\r\n\r\n"
	if _, err := c.Write([]byte(invite)); err != nil {
		t.Fatal(err)
	}
	if err := c.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	var to string
	for to == "" {
		n, err := c.Read(c.buf)
		if err != nil {
			t.Fatalf("call %s: read answer: %v", id, err)
		}
		msg := string(c.buf[:n])
		if !strings.Contains(msg, "Call-ID: "+id+"@linger\r\n") || !strings.HasPrefix(msg, "SIP/2.0 486") {
			continue // a 100 Trying, or a retransmission for an earlier call
		}
		for _, line := range strings.Split(msg, "\r\n") {
			if strings.HasPrefix(line, "To:") {
				to = line
			}
		}
	}
	ack := head("ACK") + to + "\r\n" +
		"Call-ID: " + id + "@linger\r\n" +
		"CSeq: 1 ACK\r\n" +
		"Content-Length: 0\r\n\r\n"
	if _, err := c.Write([]byte(ack)); err != nil {
		t.Fatal(err)
	}
}
