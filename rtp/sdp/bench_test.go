package sdp

import (
	"net/netip"
	"testing"
)

// BenchmarkAnswer is one call's offer/answer as rtp.Engine.Open does it: parse the offer,
// negotiate, write the answer.
func BenchmarkAnswer(b *testing.B) {
	for _, name := range []string{"bench", "baresip"} {
		b.Run(name, func(b *testing.B) {
			offer := []byte(peerOffers[name])
			codecs := []string{"pcmu", "pcma"}
			addr := netip.MustParseAddr("192.0.2.1")
			b.ReportAllocs()
			for b.Loop() {
				d, err := Parse(offer)
				if err != nil {
					b.Fatal(err)
				}
				fs, err := Negotiate(d, codecs)
				if err != nil {
					b.Fatal(err)
				}
				l := Local{SessionID: 1234567, Version: 1, Addr: addr, Port: 20000, Formats: fs,
					Direction: d.Direction.Reverse(), Ptime: 20, Streams: d.Streams, Audio: d.Audio}
				_ = l.Marshal()
			}
		})
	}
}

// BenchmarkParse compares the hand parser with pion's on the same offers.
func BenchmarkParse(b *testing.B) {
	for _, name := range []string{"bench", "baresip"} {
		offer := []byte(peerOffers[name])
		b.Run(name+"/fast", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, ok := parseFast(offer); !ok {
					b.Fatal("left to pion")
				}
			}
		})
		b.Run(name+"/pion", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := parsePion(offer); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
