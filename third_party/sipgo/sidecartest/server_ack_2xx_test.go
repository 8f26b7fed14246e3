package sidecartest

import (
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// sidecar patch: the ACK of a 2xx matches no server transaction and gets none; a Server's
// OnAck handler is handed one that is already over, and a server without OnAck still
// answers such an ACK 405, as upstream did through the ACK's own transaction.
func TestServerAckOutsideTransaction(t *testing.T) {
	for _, withHandler := range []bool{true, false} {
		ua, err := sipgo.NewUA()
		if err != nil {
			t.Fatal(err)
		}
		srv, err := sipgo.NewServer(ua)
		if err != nil {
			t.Fatal(err)
		}
		got := make(chan sip.ServerTransaction, 1)
		if withHandler {
			srv.OnAck(func(req *sip.Request, tx sip.ServerTransaction) { got <- tx })
		}
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			_ = srv.ServeUDP(pc)
		}()
		c := dialUAC(t, pc.LocalAddr().String())
		local, remote := c.LocalAddr().String(), c.RemoteAddr().String()
		ack := "ACK sip:bob@" + remote + " SIP/2.0\r\nVia: SIP/2.0/UDP " + local + ";branch=z9hG4bK-ack2xx\r\n" +
			"Max-Forwards: 70\r\nFrom: <sip:alice@" + local + ">;tag=f\r\nTo: <sip:bob@" + remote + ">;tag=t\r\n" +
			"Call-ID: ack2xx@test\r\nCSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n"
		// Before ServeUDP is reading, the datagram waits in the socket.
		if _, err := c.Write([]byte(ack)); err != nil {
			t.Fatal(err)
		}
		if withHandler {
			select {
			case tx := <-got:
				if tx == nil {
					t.Fatal("OnAck got a nil transaction")
				}
				select {
				case <-tx.Done():
				default:
					t.Fatal("the ACK's transaction is not over")
				}
			case <-time.After(10 * time.Second):
				t.Fatal("OnAck not called")
			}
		} else {
			if err := c.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
				t.Fatal(err)
			}
			n, err := c.Read(c.buf)
			if err != nil {
				t.Fatalf("no answer to an ACK without OnAck: %v", err)
			}
			if msg := string(c.buf[:n]); !strings.HasPrefix(msg, "SIP/2.0 405 ") || !strings.Contains(msg, "CSeq: 1 ACK") {
				t.Fatalf("answer %q, want the 405 upstream sent", msg)
			}
		}
		c.Close()
		ua.Close()
		pc.Close()
		<-done
	}
}
