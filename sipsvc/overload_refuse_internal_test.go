package sipsvc

import (
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/sidecar-voip/sidecar/config"
)

// refusingServer is a Server whose admission refuses every new INVITE after the first (a
// rate of one call per second at a fixed clock), and n INVITE datagrams with distinct
// branches, with the ACK of each one's 503.
func refusingServer(tb testing.TB, n int) (s *Server, invites, acks [][]byte) {
	tb.Helper()
	c := &config.SIP{Trusted: config.MustParseTrustList("127.0.0.0/8"), Untrusted: "drop", UserAgent: "sidecar"}
	s = &Server{cfg: c, log: slog.New(slog.DiscardHandler), admit: newAdmission(1, nil)}
	s.live.Store(newLiveSettings(c))
	s.stats.rejected = make(map[int]uint64)
	s.admit.setMaxDelay(100 * time.Millisecond)
	for i := range n {
		head := fmt.Sprintf("Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-%d;rport\r\n"+
			"From: <sip:a@127.0.0.1>;tag=f%d\r\nTo: <sip:b@127.0.0.1>\r\nCall-ID: c%d@127.0.0.1\r\n", i, i, i)
		invites = append(invites, []byte("INVITE sip:b@127.0.0.1 SIP/2.0\r\n"+head+
			"CSeq: 1 INVITE\r\nMax-Forwards: 70\r\nContact: <sip:a@127.0.0.1:5070>\r\nContent-Length: 0\r\n\r\n"))
		acks = append(acks, []byte("ACK sip:b@127.0.0.1 SIP/2.0\r\n"+head+
			"CSeq: 1 ACK\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"))
	}
	return s, invites, acks
}

// A refused INVITE over UDP gets its 503 (Via, From, To with a tag, Call-ID, CSeq copied,
// Retry-After) queued in the batch, and the ACK of that 503 is absorbed: both without an
// allocation.
func TestRefusalAllocatesNothing(t *testing.T) {
	s, invites, acks := refusingServer(t, 64)
	src := netip.MustParseAddrPort("127.0.0.1:5070")
	r := newRxBatch(nil, rxBatchSize, 1, false)
	now := time.Now()
	if !s.admitNewCall(src, invites[0], now, now, r, nil) {
		t.Fatal("the first INVITE refused: the bucket holds one call")
	}
	if s.admitNewCall(src, invites[1], now, now, r, nil) || len(r.replies) != 1 {
		t.Fatalf("the second INVITE admitted (%d answers queued), want a 503", len(r.replies))
	}
	got := string(r.replies[0].b)
	for _, want := range []string{"SIP/2.0 503 Service Unavailable\r\n", "branch=z9hG4bK-1;", "To: <sip:b@127.0.0.1>;tag=",
		"Call-ID: c1@127.0.0.1\r\n", "CSeq: 1 INVITE\r\n", "Server: sidecar\r\n", "Retry-After: ", "\r\nContent-Length: 0\r\n\r\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("503 %q lacks %q", got, want)
		}
	}
	if r.replies[0].dst != src {
		t.Errorf("503 to %v, want %v", r.replies[0].dst, src)
	}
	if s.admitNewCall(src, acks[1], now, now, r, nil) {
		t.Error("the ACK of the 503 went up, want it absorbed")
	}
	if !s.admitNewCall(src, acks[0], now, now, r, nil) {
		t.Error("the ACK of an admitted INVITE absorbed, want it up")
	}
	i := 2
	allocs := testing.AllocsPerRun(200, func() {
		refuseNext(s, r, src, invites, acks, 2+i%(len(invites)-2), now)
		i++
	})
	if allocs != 0 {
		t.Errorf("a refusal and its ACK allocate %.1f times, want 0", allocs)
	}
	seen := map[string]bool{}
	for _, m := range r.replies {
		to := string(m.b[strings.Index(string(m.b), "To: "):])
		to = to[:strings.Index(to, "\r\n")]
		if seen[to] {
			t.Errorf("two 503s share the To %q", to)
		}
		seen[to] = true
	}
}

// BenchmarkRefusal is the filter's cost of one refused INVITE over UDP and the ACK of its 503.
func BenchmarkRefusal(b *testing.B) {
	s, invites, acks := refusingServer(b, 4096)
	src := netip.MustParseAddrPort("127.0.0.1:5070")
	r := newRxBatch(nil, rxBatchSize, 1, false)
	now := time.Now()
	s.admitNewCall(src, invites[0], now, now, r, nil)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		refuseNext(s, r, src, invites, acks, 1+i%(len(invites)-1), now)
		i++
	}
}

// refuseNext passes invites[k] and then acks[k] through the filter's admission, after
// emptying r's replies when they are full (as flushReplies does).
func refuseNext(s *Server, r *rxBatch, src netip.AddrPort, invites, acks [][]byte, k int, now time.Time) {
	if len(r.replies) == cap(r.replies) {
		r.resetReplies()
	}
	s.admitNewCall(src, invites[k], now, now, r, nil)
	s.admitNewCall(src, acks[k], now, now, r, nil)
}
