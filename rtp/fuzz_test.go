package rtp

import (
	"context"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/sidecar-voip/sidecar/internal/sipstatus"
	"github.com/sidecar-voip/sidecar/media"
	"github.com/sidecar-voip/sidecar/rtp/sdp"
)

func fuzzSession(t testing.TB) *Session {
	cfg := DefaultConfig()
	cfg.PortMin, cfg.PortMax = 40000, 40999
	e, err := NewEngine(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	offer := "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 9 RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\n"
	ms, err := e.Open(context.Background(), media.Params{CallID: "fuzz", Offer: []byte(offer)})
	if err != nil {
		t.Fatal(err)
	}
	s := ms.(*Session)
	s.SetDTMFMode("auto")
	return s
}

// FuzzHandleRTP feeds arbitrary datagrams to the RTP packet path (parse, latch, statistics,
// DTMF, inband detection, echo): it must never panic.
func FuzzHandleRTP(f *testing.F) {
	good := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SequenceNumber: 1, Timestamp: 160, SSRC: 7}, Payload: make([]byte, 160)}
	b, _ := good.Marshal()
	f.Add(b)
	te := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 101, SequenceNumber: 2, Timestamp: 320, SSRC: 7}, Payload: []byte{5, 0x8a, 0, 160}}
	b, _ = te.Marshal()
	f.Add(b)
	f.Add([]byte{0x90, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0xbe, 0xde, 0, 1, 0x10, 0xff, 0, 0})
	f.Add([]byte{0x80})
	s := fuzzSession(f)
	s.echo.Store(true)
	// The SDP's host, another port of it, and a stranger (the latch candidate path).
	from := []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:9"), netip.MustParseAddrPort("127.0.0.1:11"), netip.MustParseAddrPort("127.0.0.2:9")}
	var pkt rtp.Packet
	f.Fuzz(func(t *testing.T, data []byte) {
		s.SetDTMFMode([]string{"auto", "inband"}[len(data)%2])
		s.handleRTP(data, from[len(data)%3], &pkt, time.Now())
	})
}

// FuzzSetRemote applies arbitrary SDP to an established session, as re-INVITEs and ACKs do:
// it must never panic, every error must carry a SIP status, and every body returned (an answer
// or an offer) must parse.
func FuzzSetRemote(f *testing.F) {
	f.Add([]byte("v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 9 RTP/AVP 0\r\na=sendonly\r\n"))
	f.Add([]byte("v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\nm=audio 9 RTP/AVP 8\r\nm=video 9 RTP/AVP 96\r\n"))
	f.Add([]byte(""))
	s := fuzzSession(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		out, err := s.SetRemote(body)
		if err != nil {
			var se *sipstatus.Error
			if !errors.As(err, &se) || se.Code != 488 {
				t.Fatalf("error %v is not a 488", err)
			}
			return
		}
		if out != nil {
			if _, err := sdp.Parse(out); err != nil {
				t.Fatalf("our SDP does not parse: %v\n%s", err, out)
			}
		}
	})
}

// FuzzHandleRTCP feeds arbitrary datagrams to the RTCP path: it must never panic.
func FuzzHandleRTCP(f *testing.F) {
	f.Add([]byte{0x81, 200, 0, 12, 0, 0, 0, 7, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0, 5,
		0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{0x80, 201, 0, 1, 0, 0, 0, 7})
	s := fuzzSession(f)
	from := netip.MustParseAddrPort("127.0.0.1:10")
	f.Fuzz(func(t *testing.T, data []byte) {
		s.handleRTCP(data, from, time.Now())
	})
}
