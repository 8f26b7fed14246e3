package e2e

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/sidecar-voip/sidecar/app/wav"
)

// envelopeMs is the window of the energy envelopes audio is compared by.
const envelopeMs = 20

// burstSignal returns secs seconds of 8 kHz audio that no prompt resembles: chirps of random
// length (60-400 ms), sweep and loudness, separated by quiet gaps of random length (40-300 ms,
// shorter than any silence timeout), drawn from seed. Two seeds give unrelated envelopes.
func burstSignal(seed uint64, secs float64) []int16 {
	const rate = 8000
	r := rand.New(rand.NewPCG(seed, seed^0x5eed))
	out := make([]int16, 0, int(secs*rate))
	total := int(secs * rate)
	for len(out) < total {
		n := rate * (60 + r.IntN(340)) / 1000
		f0, f1 := 300+r.Float64()*900, 1200+r.Float64()*2000
		amp := 4000 + r.Float64()*14000
		phase := 0.0
		for i := 0; i < n && len(out) < total; i++ {
			f := f0 + (f1-f0)*float64(i)/float64(n)
			phase += 2 * math.Pi * f / rate
			ramp := math.Min(1, math.Min(float64(i), float64(n-i))/40) // no clicks
			out = append(out, int16(amp*ramp*math.Sin(phase)))
		}
		gap := rate * (40 + r.IntN(260)) / 1000
		for i := 0; i < gap && len(out) < total; i++ {
			out = append(out, int16(r.IntN(41)-20)) // a faint hiss, as a line has
		}
	}
	return out
}

// writeSignal writes samples as an 8 kHz 16-bit mono WAV file.
func writeSignal(t *testing.T, path string, samples []int16) {
	t.Helper()
	if err := os.WriteFile(path, wav.Encode(samples, 8000), 0o644); err != nil {
		t.Fatalf("write %s: %v", path, err)
	}
}

// readSignal reads a WAV file (16-bit PCM or G.711, a file still being written included) as
// 8 kHz mono samples.
func readSignal(path string) ([]int16, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	s, rate, err := wav.Decode(b)
	if err != nil {
		return nil, fmt.Errorf("decode %s: %w", path, err)
	}
	if rate != 8000 {
		s = wav.Resample(s, rate, 8000)
	}
	return s, nil
}

// envelope returns the mean absolute amplitude of each 20 ms window of 8 kHz audio.
func envelope(s []int16) []float64 {
	const w = 8000 * envelopeMs / 1000
	env := make([]float64, 0, len(s)/w)
	for i := 0; i+w <= len(s); i += w {
		var sum float64
		for _, v := range s[i : i+w] {
			sum += math.Abs(float64(v))
		}
		env = append(env, sum/w)
	}
	return env
}

// bestCorrelation slides the envelope of short over the envelope of long and returns the
// highest Pearson correlation over every lag at which at least minOverlap of short overlaps
// long, and that lag in windows. Audio that went through a call (codec, jitter, the part
// before the recording started) still gives close to 1 against what was sent; unrelated audio
// gives well under 0.5.
func bestCorrelation(short, long []int16, minOverlap float64) (best float64, lag int) {
	a, b := envelope(short), envelope(long)
	need := max(1, int(math.Ceil(minOverlap*float64(len(a)))))
	best, lag = math.Inf(-1), 0
	for l := -(len(a) - need); l <= len(b)-need; l++ {
		// a[i] against b[i+l]
		lo, hi := max(0, -l), min(len(a), len(b)-l)
		if hi-lo < need {
			continue
		}
		if c := pearson(a[lo:hi], b[lo+l:hi+l]); c > best {
			best, lag = c, l
		}
	}
	if math.IsInf(best, -1) {
		return 0, 0
	}
	return best, lag
}

// pearson is the correlation coefficient of two equally long series (0 when one is flat).
func pearson(x, y []float64) float64 {
	n := float64(len(x))
	var sx, sy float64
	for i := range x {
		sx += x[i]
		sy += y[i]
	}
	mx, my := sx/n, sy/n
	var cxy, cxx, cyy float64
	for i := range x {
		dx, dy := x[i]-mx, y[i]-my
		cxy += dx * dy
		cxx += dx * dx
		cyy += dy * dy
	}
	if cxx == 0 || cyy == 0 {
		return 0
	}
	return cxy / math.Sqrt(cxx*cyy)
}

// The comparison the voicemail test relies on must be able to fail: a delayed, clipped,
// G.711-like copy of a signal inside longer audio is found; a signal of another seed is not.
func TestEnvelopeCorrelation(t *testing.T) {
	sent := burstSignal(1, 12)
	// What a recording keeps: from 3.37 s on, quantised coarsely, inside 2 s of other audio.
	kept := append([]int16(nil), sent[int(3.37*8000):]...)
	for i := range kept {
		kept[i] = kept[i] / 256 * 256
	}
	heard := append(append(burstSignal(7, 2), kept...), burstSignal(8, 2)...)
	if c, _ := bestCorrelation(kept, sent, 0.8); c < 0.95 {
		t.Errorf("a kept part of the signal correlates %.2f with what was sent, want >= 0.95", c)
	}
	if c, _ := bestCorrelation(kept, heard, 0.8); c < 0.95 {
		t.Errorf("the kept part inside other audio correlates %.2f, want >= 0.95", c)
	}
	if c, _ := bestCorrelation(burstSignal(2, 9), sent, 0.8); c > 0.5 {
		t.Errorf("an unrelated signal correlates %.2f with the sent one, want < 0.5", c)
	}
}
