package rtp

import (
	"net/netip"
	"testing"
	"time"

	"github.com/pion/rtp"
)

// TestLatchWindowCloses: a source other than the SDP's address is never latched once
// latchWindow has passed since the route was installed; the SDP's host still is.
func TestLatchWindowCloses(t *testing.T) {
	s := fuzzSession(t)
	offer := "v=0\r\no=- 1 2 IN IP4 127.0.0.3\r\ns=-\r\nc=IN IP4 127.0.0.3\r\nt=0 0\r\nm=audio 9 RTP/AVP 0\r\n"
	if _, err := s.SetRemote([]byte(offer)); err != nil {
		t.Fatal(err)
	}
	b, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, SSRC: 5}, Payload: make([]byte, 160)}).Marshal()
	var pkt rtp.Packet
	late := time.Now().Add(latchWindow + time.Second)
	foreign := netip.MustParseAddrPort("127.0.0.1:4000")
	for range 2 * latchPackets {
		s.handleRTP(b, foreign, &pkt, late)
	}
	if r := s.route.Load(); r.latched {
		t.Fatalf("latched %s after the window", r.dst)
	}
	sdpHost := netip.MustParseAddrPort("127.0.0.3:4002")
	s.handleRTP(b, sdpHost, &pkt, late)
	if r := s.route.Load(); !r.latched || r.dst != sdpHost {
		t.Fatalf("SDP host not latched after the window: %+v", r)
	}
}
