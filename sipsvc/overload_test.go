package sipsvc_test

import (
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/sidecar-voip/sidecar/config"
)

// A burst of new INVITEs past [sip] max-cps: the ones admitted are answered and complete;
// every other one gets a 503 with Retry-After at once (no 100 Trying first: no transaction),
// carrying the request's Via, Call-ID and CSeq; OPTIONS answer 503 while the node refuses and
// 200 once it no longer does; the refusals are counted.
func TestOverloadBurstRefusedAtOnce(t *testing.T) {
	e := startEnv(t, func(c *config.Config) { c.SIP.MaxCPS = 2 }) // burst 1, one new call each 500 ms
	const burst = 6
	uacs := make([]*rawUAC, burst)
	invs := make([]msg, burst)
	for i := range uacs {
		uacs[i] = newRawUAC(t, "127.0.0.1", e.udp)
		invs[i] = msg{method: "INVITE", ruri: "sip:answer@" + e.udp.String(), toUser: "answer", body: offerSDP,
			headers: []string{"X-Caller-Template: sub"}}
	}
	texts := make([]string, burst)
	for i, u := range uacs {
		texts[i] = u.text(&invs[i])
	}
	for i, u := range uacs { // back to back: at one each 500 ms, at most two can be admitted
		u.send(texts[i])
	}
	admitted, refused := 0, 0
	for i, u := range uacs {
		first, ok := u.next(5 * time.Second).(*sip.Response)
		if !ok || first == nil {
			t.Fatalf("INVITE %d: no response", i)
		}
		switch first.StatusCode {
		case 503:
			refused++
			if ra := first.GetHeader("Retry-After"); ra == nil || ra.Value() != "5" {
				t.Errorf("INVITE %d: 503 without Retry-After: 5", i)
			}
			if first.CallID().Value() != invs[i].callID || first.CSeq().SeqNo != uint32(invs[i].cseq) ||
				first.CSeq().MethodName != sip.INVITE {
				t.Errorf("INVITE %d: 503 for Call-ID %s CSeq %s, want %s %d INVITE", i, first.CallID().Value(),
					first.CSeq().Value(), invs[i].callID, invs[i].cseq)
			}
			if b, _ := first.Via().Params.Get("branch"); b != invs[i].branch {
				t.Errorf("INVITE %d: 503 Via branch %q, want %q", i, b, invs[i].branch)
			}
			if tag, _ := first.To().Params.Get("tag"); tag == "" {
				t.Errorf("INVITE %d: 503 without To tag", i)
			}
			u.send(u.ackNon2xx(invs[i], first))
		case 100, 200: // admitted: answered at once, so the 100 Trying is optional (trying.go)
			admitted++
			res := first
			if first.StatusCode == 100 {
				res = u.final(2 * time.Second)
			}
			if res.StatusCode != 200 {
				t.Fatalf("admitted INVITE %d: got %d, want 200", i, res.StatusCode)
			}
			u.send(u.ackFor(invs[i], res))
			tag, _ := res.To().Params.Get("tag")
			hangUp(t, u, invs[i], tag, invs[i].cseq+1)
		default:
			t.Fatalf("INVITE %d: first response %d, want 100, 200 or 503", i, first.StatusCode)
		}
	}
	if admitted < 1 || admitted > 2 || refused != burst-admitted {
		t.Fatalf("admitted %d, refused %d of %d; want 1-2 admitted, the rest refused", admitted, refused, burst)
	}

	o := newRawUAC(t, "127.0.0.1", e.udp)
	o.send(o.text(&msg{method: "OPTIONS", ruri: "sip:" + e.udp.String()}))
	if res := o.final(time.Second); res.StatusCode != 503 {
		t.Fatalf("OPTIONS while refusing: got %d, want 503", res.StatusCode)
	}
	st := e.srv.Stats()
	if st.OverloadInvites != uint64(refused) || st.OverloadOptions != 1 || st.Rejected[503] != uint64(refused)+1 {
		t.Errorf("stats: overload INVITE %d OPTIONS %d, rejected %v; want %d, 1, 503:%d",
			st.OverloadInvites, st.OverloadOptions, st.Rejected, refused, refused+1)
	}
	// The episode ends overloadHold (500 ms) after the last refusal: OPTIONS are 200 again,
	// and by then the bucket holds a token for the next call.
	waitFor(t, 5*time.Second, "OPTIONS 200 after the flood", func() bool {
		o.send(o.text(&msg{method: "OPTIONS", ruri: "sip:" + e.udp.String()}))
		return o.final(time.Second).StatusCode == 200
	})
	u := newRawUAC(t, "127.0.0.1", e.udp)
	inv, ok := answerCall(t, e, u)
	tag, _ := ok.To().Params.Get("tag")
	hangUp(t, u, inv, tag, inv.cseq+1)
	if n := strings.Count(e.log.String(), "overload: refusing new calls"); n != 1 {
		t.Errorf("overload logged %d times, want once for the episode", n)
	}
}

// An untrusted INVITE (untrusted = reject) gets its 403 and takes no token: it cannot use up
// max-cps and lock the trusted callers out.
func TestOverloadUntrustedTakesNoToken(t *testing.T) {
	e := startEnv(t, func(c *config.Config) {
		c.SIP.MaxCPS = 1
		c.SIP.Trusted = config.MustParseTrustList("127.0.0.1/32")
	})
	x := newRawUAC(t, "127.0.0.2", e.udp)
	for range 3 {
		inv := msg{method: "INVITE", ruri: "sip:answer@" + e.udp.String(), toUser: "answer", body: offerSDP}
		x.send(x.text(&inv))
		if res := x.final(time.Second); res.StatusCode != 403 {
			t.Fatalf("untrusted INVITE: got %d, want 403", res.StatusCode)
		}
	}
	u := newRawUAC(t, "127.0.0.1", e.udp)
	inv, ok := answerCall(t, e, u)
	tag, _ := ok.To().Params.Get("tag")
	hangUp(t, u, inv, tag, inv.cseq+1)
	if n := e.srv.Stats().OverloadInvites; n != 0 {
		t.Errorf("%d INVITEs refused by overload control, want 0", n)
	}
}
