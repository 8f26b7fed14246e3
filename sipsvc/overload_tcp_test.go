package sipsvc_test

import (
	"bufio"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/sidecar-voip/sidecar/config"
	"github.com/sidecar-voip/sidecar/internal/reliability"
)

// Over TCP, an INVITE flood past [sip] max-cps is refused before any transaction: each
// refused INVITE gets a 503 with Retry-After on its connection and never reaches a handler
// (sipgo runs handlers only with a server transaction; that none is created is
// third_party/sipgo's TestTransactionLayerPreRequestNoTransaction). To tell the handler's
// answers apart, every INVITE carries a Require the sidecar does not support: the handler's
// first check answers 420, so an admitted INVITE gets 420 and a refused one 503, where a
// refusal inside the handler (after sipgo made the transaction) would have come after the 420.
func TestOverloadTCPBeforeTransaction(t *testing.T) {
	const (
		maxCPS = 10
		calls  = 200
	)
	e := startEnv(t, func(c *config.Config) {
		c.SIP.Trusted = config.MustParseTrustList("127.0.0.1/32")
		c.SIP.MaxCPS = maxCPS
	})
	addr := tcpAddrOf(t, e)
	conn, err := net.Dial("tcp", addr.String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	p := peer{srv: addr, local: conn.LocalAddr().(*net.TCPAddr).AddrPort(), transport: "TCP"}
	invites := make(map[string]msg, calls)
	for range calls {
		m := msg{method: "INVITE", ruri: "sip:busy@" + addr.String(), toUser: "busy", body: offerSDP,
			headers: []string{"X-Caller-Template: sub", "Require: x-not-supported"}}
		text := p.text(&m)
		invites[m.callID] = m
		if _, err := conn.Write([]byte(text)); err != nil {
			t.Fatal(err)
		}
	}
	r := bufio.NewReader(conn)
	conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	var busy, refused int // 420 from the handler, 503 before it
	for busy+refused < calls {
		res, err := readResponse(r)
		if err != nil {
			t.Fatalf("after %d 420 and %d 503: %v", busy, refused, err)
		}
		switch res.StatusCode {
		case 100:
		case 420:
			busy++
		case 503:
			refused++
			if res.GetHeader("Retry-After") == nil {
				t.Errorf("503 without Retry-After:\n%s", res)
			}
			if _, ok := invites[res.CallID().Value()]; !ok {
				t.Errorf("503 for an unknown call %s", res.CallID().Value())
			}
		default:
			t.Fatalf("got %d, want 420 or 503", res.StatusCode)
		}
	}
	st := e.srv.Stats()
	if refused == 0 || busy == 0 {
		t.Fatalf("420 %d, 503 %d: want both (max-cps %d, %d INVITEs at once)", busy, refused, maxCPS, calls)
	}
	if st.OverloadInvites != uint64(refused) {
		t.Errorf("overload refusals counted %d, 503 received %d", st.OverloadInvites, refused)
	}
	if t.Failed() {
		return
	}
	reliability.Log(t, reliability.Row{
		Test:   "sipsvc TestOverloadTCPBeforeTransaction",
		Thrown: fmt.Sprintf("%d new INVITEs written at once on one TCP connection, [sip] max-cps %d", calls, maxCPS),
		Did: fmt.Sprintf("admitted %d (the handler's answer, 420 to their Require); refused %d with a stateless 503 + "+
			"Retry-After on the connection from sipgo's pre-transaction hook: no transaction, no handler", busy, refused),
		Lost: "nothing: every INVITE got a final answer",
	})
}
