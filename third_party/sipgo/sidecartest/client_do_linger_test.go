package sidecartest

import (
	"context"
	"fmt"
	"net"
	"runtime"
	"strings"
	"testing"
	"weak"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// sidecar patch: Client.Do's deferred Terminate often runs before the transaction's FSM
// arms Timer K (5 s) after the final it passed up; the timer then kept the deleted
// transaction, its request and its response reachable. N PUBLISH-like requests through a
// real UDP answerer: once Do has returned for each, none of their requests stays reachable.
func TestClientDoLeavesNoTransaction(t *testing.T) {
	const requests = 2000
	answerer := answer200(t)
	defer answerer.Close()

	ua, err := sipgo.NewUA()
	if err != nil {
		t.Fatal(err)
	}
	defer ua.Close()
	cli, err := sipgo.NewClient(ua, sipgo.WithClientAddr("127.0.0.1:0"))
	if err != nil {
		t.Fatal(err)
	}
	target := answerer.LocalAddr().(*net.UDPAddr)
	held := make([]weak.Pointer[sip.Request], 0, requests)
	for i := range requests {
		req := sip.NewRequest(sip.PUBLISH, sip.Uri{User: "presence", Host: "127.0.0.1", Port: target.Port})
		req.AppendHeader(sip.NewHeader("Event", "dialog"))
		req.SetBody([]byte(fmt.Sprintf("<dialog-info version=%q/>", fmt.Sprint(i))))
		res, err := cli.Do(context.Background(), req)
		if err != nil {
			t.Fatalf("publish %d: %v", i, err)
		}
		if res.StatusCode != sip.StatusOK {
			t.Fatalf("publish %d: %s", i, res.StartLine())
		}
		held = append(held, weak.Make(req))
	}
	runtime.GC()
	runtime.GC()
	live := 0
	for _, p := range held {
		if p.Value() != nil {
			live++
		}
	}
	t.Logf("%d of %d PUBLISH transactions still reachable after Do returned", live, requests)
	if live > 0 {
		t.Fatalf("%d of %d finished PUBLISH transactions still reachable (Timer K armed after Do's Terminate)", live, requests)
	}
}

// answer200 answers every request it receives with 200 OK, statelessly.
func answer200(t *testing.T) net.PacketConn {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		buf := make([]byte, 65535)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			msg, err := sip.ParseMessage(buf[:n])
			if err != nil {
				continue
			}
			req, ok := msg.(*sip.Request)
			if !ok || req.IsAck() {
				continue
			}
			res := sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil)
			if _, err := pc.WriteTo([]byte(res.String()), from); err != nil && !strings.Contains(err.Error(), "closed") {
				return
			}
		}
	}()
	return pc
}
