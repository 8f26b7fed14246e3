package rtp_test

import (
	"context"
	"testing"
	"time"
)

// TestReusedPairStartsFresh: a port pair kept bound across calls serves the next call as a
// freshly bound one would. The previous call's peer keeps sending after Close: its datagrams
// reach neither the closed session (no handler runs for it once Close returns) nor the next
// call (drained at reuse); the next call latches, counts and echoes only its own peer, with a
// stream of its own (new SSRC).
func TestReusedPairStartsFresh(t *testing.T) {
	e := newEngine(t, 1, nil) // one pair: the next call must reuse it
	old, next := newPeer(t), newPeer(t)
	payload := make([]byte, 160)

	s1 := open(t, e, old.offer("0"))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go s1.Echo(ctx)
	waitEcho(t, s1)
	old.send(s1, 0, false, 160, payload)
	echo1, _, err := old.recv(5 * time.Second)
	if err != nil {
		t.Fatalf("first call's echo: %v", err)
	}
	port := s1.Port()
	s1.Close()
	closed := s1.Stats()
	for i := range 5 { // after its BYE, the old peer goes on sending
		old.send(s1, 0, false, uint32(320+160*i), payload)
	}

	s2 := open(t, e, next.offer("0"))
	if s2.Port() != port {
		t.Fatalf("second call on port %d, want the only pair's %d", s2.Port(), port)
	}
	go s2.Echo(ctx)
	waitEcho(t, s2)
	for i := range 3 {
		next.send(s2, 0, false, uint32(160*i), payload)
		echo, _, err := next.recv(5 * time.Second)
		if err != nil {
			t.Fatalf("second call's echo %d: %v", i, err)
		}
		if echo.SSRC == echo1.SSRC {
			t.Errorf("second call echoes with the first call's SSRC %#x", echo.SSRC)
		}
	}
	if st := s1.Stats(); st != closed {
		t.Errorf("closed session's counters moved: %+v, at Close %+v", st, closed)
	}
	st := s2.Stats()
	if st.PacketsSent != 3 {
		t.Errorf("second call sent %d packets, want its 3 echoes", st.PacketsSent)
	}
	if st.PacketsReceived != 3 || st.Dropped != 0 {
		t.Errorf("second call received %d (dropped %d), want only its peer's 3: the old call's datagrams were not drained",
			st.PacketsReceived, st.Dropped)
	}
}
