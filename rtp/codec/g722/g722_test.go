package g722

import (
	"math"
	"testing"
)

func sine(freq float64, amp float64, n int) []int16 {
	pcm := make([]int16, n)
	for i := range pcm {
		pcm[i] = int16(amp * math.Sin(2*math.Pi*freq*float64(i)/16000))
	}
	return pcm
}

// delay is the codec's end-to-end delay in samples: the transmit and receive QMFs have 24
// taps each, so a sample comes out 22 sample periods later (plus the 2-sample block).
const delay = 22

// snr returns the signal-to-noise ratio in dB of out against in delayed by the codec delay,
// skipping the first samples while the ADPCM adapts.
func snr(in, out []int16) float64 {
	var sig, noise float64
	for i := 800; i+delay < len(out) && i < len(in); i++ {
		e := float64(out[i+delay]) - float64(in[i])
		sig += float64(in[i]) * float64(in[i])
		noise += e * e
	}
	return 10 * math.Log10(sig/noise)
}

// TestRoundTripSNR checks the codec end to end: tones in both sub-bands must survive encode and
// decode with the quality G.722 is specified for. A wrong table entry, QMF tap or scale shift
// drops the SNR far below these floors (or makes the output diverge).
func TestRoundTripSNR(t *testing.T) {
	for _, tc := range []struct {
		name  string
		freq  float64
		amp   float64
		floor float64
	}{
		{"low band 440 Hz", 440, 8000, 40},
		{"low band 1 kHz", 1000, 12000, 40},
		{"low band quiet 1 kHz", 1000, 500, 30},
		{"high band 5 kHz", 5000, 8000, 15},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := sine(tc.freq, tc.amp, 16000)
			enc, dec := NewEncoder(), NewDecoder()
			code := enc.Encode(nil, in)
			if len(code) != len(in)/2 {
				t.Fatalf("encoded %d samples to %d bytes, want %d", len(in), len(code), len(in)/2)
			}
			out := dec.Decode(nil, code)
			if len(out) != len(in) {
				t.Fatalf("decoded %d samples, want %d", len(out), len(in))
			}
			got := snr(in, out)
			t.Logf("SNR %.1f dB", got)
			if got < tc.floor {
				t.Errorf("SNR %.1f dB < %.0f dB", got, tc.floor)
			}
		})
	}
}

// TestDecoderTracksEncoder checks the defining property of ADPCM: the encoder embeds the
// decoder's predictor, so after any input both hold identical band state.
func TestDecoderTracksEncoder(t *testing.T) {
	in := sine(700, 9000, 4000)
	for i := range in {
		in[i] += int16((i*7919)%2001 - 1000) // add broadband content
	}
	enc, dec := NewEncoder(), NewDecoder()
	dec.Decode(nil, enc.Encode(nil, in))
	for b := 0; b < 2; b++ {
		if enc.band[b] != dec.band[b] {
			t.Errorf("band %d: encoder state %+v != decoder state %+v", b, enc.band[b], dec.band[b])
		}
	}
}

// TestSilence pins known answers derived by hand from the Recommendation's tables for digital
// silence from the reset state: the low band quantizer starts at det=32, so an error of 0
// falls in interval 4 (q6[4]*32>>12 = 1 is the first threshold above 0), giving ilow =
// ilp[4] = 58; the high band starts at det=8, threshold 564*8>>12 = 1 > 0, giving ihigh =
// ihp[1] = 3. The first byte is therefore 3<<6|58 = 0xFA, and silence decodes to silence.
func TestSilence(t *testing.T) {
	code := NewEncoder().Encode(nil, make([]int16, 320))
	if code[0] != 0xFA {
		t.Errorf("first silence byte %#x, want 0xfa", code[0])
	}
	for i, s := range NewDecoder().Decode(nil, code) {
		if s > 8 || s < -8 {
			t.Fatalf("sample %d of decoded silence is %d", i, s)
		}
	}
}

func BenchmarkG722Encode(b *testing.B) {
	in := sine(1000, 8000, 320) // one 20 ms frame
	enc := NewEncoder()
	dst := make([]byte, 0, 160)
	b.SetBytes(int64(len(in) * 2))
	for b.Loop() {
		dst = enc.Encode(dst[:0], in)
	}
}

func BenchmarkG722Decode(b *testing.B) {
	code := NewEncoder().Encode(nil, sine(1000, 8000, 320))
	dec := NewDecoder()
	dst := make([]int16, 0, 320)
	b.SetBytes(int64(len(code)))
	for b.Loop() {
		dst = dec.Decode(dst[:0], code)
	}
}
