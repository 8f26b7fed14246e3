package codec

import (
	"math"
	"testing"

	"github.com/sidecar-voip/sidecar/media/codecs"
)

func TestLookup(t *testing.T) {
	for _, tc := range []struct {
		name string
		rate int
		ok   bool
	}{{"pcmu", 8000, true}, {"PCMA", 8000, true}, {"g722", 16000, true}, {"g729", 0, false}, {"opus", 0, false}} {
		c, ok := Lookup(tc.name)
		if ok != tc.ok || c.SampleRate != tc.rate {
			t.Errorf("Lookup(%s) = %d %v", tc.name, c.SampleRate, ok)
		}
	}
}

// TestG711 checks the G.711 adapters: a known answer per law (0 encodes to 0xFF in mu-law and
// 0xD5 in A-law, per G.711 tables) and a round trip within the laws' quantization error.
func TestG711(t *testing.T) {
	for _, tc := range []struct {
		name string
		zero byte
	}{{"pcmu", 0xff}, {"pcma", 0xd5}} {
		c, _ := Lookup(tc.name)
		enc, dec := c.NewEncoder(), c.NewDecoder()
		if b := enc.Encode(nil, []int16{0}); b[0] != tc.zero {
			t.Errorf("%s: 0 encodes to %#x, want %#x", tc.name, b[0], tc.zero)
		}
		in := make([]int16, 160)
		for i := range in {
			in[i] = int16(10000 * math.Sin(float64(i)/5))
		}
		out := dec.Decode(nil, enc.Encode(nil, in))
		for i := range in {
			if d := math.Abs(float64(out[i]) - float64(in[i])); d > math.Abs(float64(in[i]))/16+16 {
				t.Fatalf("%s: sample %d: %d -> %d", tc.name, i, in[i], out[i])
			}
		}
	}
}

func benchFrame() []int16 {
	in := make([]int16, 160)
	for i := range in {
		in[i] = int16(10000 * math.Sin(float64(i)/5))
	}
	return in
}

func BenchmarkG711Encode(b *testing.B) {
	for _, name := range []string{"pcmu", "pcma"} {
		b.Run(name, func(b *testing.B) {
			c, _ := Lookup(name)
			enc, in, dst := c.NewEncoder(), benchFrame(), make([]byte, 0, 160)
			b.SetBytes(320)
			for b.Loop() {
				dst = enc.Encode(dst[:0], in)
			}
		})
	}
}

func BenchmarkG711Decode(b *testing.B) {
	for _, name := range []string{"pcmu", "pcma"} {
		b.Run(name, func(b *testing.B) {
			c, _ := Lookup(name)
			payload := c.NewEncoder().Encode(nil, benchFrame())
			dec, dst := c.NewDecoder(), make([]int16, 0, 160)
			b.SetBytes(160)
			for b.Loop() {
				dst = dec.Decode(dst[:0], payload)
			}
		})
	}
}

// TestEveryTranscodedCodecHasCoders: the table of media/codecs and this package agree on which
// codecs the sidecar transcodes, and at which sample rate.
func TestEveryTranscodedCodecHasCoders(t *testing.T) {
	for _, name := range codecs.Names() {
		want, _ := codecs.Lookup(name)
		c, ok := Lookup(name)
		if ok != want.Transcoded {
			t.Errorf("Lookup(%s) ok = %v, table says transcoded %v", name, ok, want.Transcoded)
		}
		if ok && c.SampleRate != want.SampleRate {
			t.Errorf("%s: sample rate %d, table %d", name, c.SampleRate, want.SampleRate)
		}
	}
	if len(coders) != 3 {
		t.Errorf("%d coders, want 3 (pcmu, pcma, g722)", len(coders))
	}
}
