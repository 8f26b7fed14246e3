package rtp_test

import (
	"context"
	"testing"

	"github.com/sidecar-voip/sidecar/media"
)

// TestOpenCloseAllocs bounds what one call's media setup and teardown allocate once the
// pool's pairs are bound: the Session, its two channels and codec list, the offer's streams
// and formats, the negotiated formats, the route and the answer. The offer's Description
// stays on Open's stack, the RTCP BYE on Close's (19 allocations before).
func TestOpenCloseAllocs(t *testing.T) {
	e := newEngine(t, 4, nil)
	p := newPeer(t)
	offer := p.offer("0 101", "a=rtpmap:101 telephone-event/8000")
	params := media.Params{CallID: "allocs", Offer: offer, Codecs: []string{"pcmu", "pcma"}}
	openClose := func() {
		s, err := e.Open(context.Background(), params)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	for range 16 { // every pair bound
		openClose()
	}
	if n := testing.AllocsPerRun(50, openClose); n > 11 {
		t.Errorf("Open and Close: %v allocations, want <= 11", n)
	}
}
