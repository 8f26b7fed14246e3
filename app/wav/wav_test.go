package wav

import (
	"math"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	in := []int16{0, 1, -1, 32767, -32768, 1234}
	got, rate, err := Decode(Encode(in, 16000))
	if err != nil || rate != 16000 || len(got) != len(in) {
		t.Fatalf("Decode = %v, %d, %v", got, rate, err)
	}
	for i := range in {
		if got[i] != in[i] {
			t.Errorf("sample %d: %d != %d", i, got[i], in[i])
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	good := Encode([]int16{1, 2, 3}, 8000)
	eightBit := append([]byte(nil), good...)
	eightBit[34] = 8
	alaw := append([]byte(nil), good...)
	alaw[20] = 6
	for name, b := range map[string][]byte{
		"empty": nil, "not riff": []byte("RIFX0000WAVEfmt "), "8-bit": eightBit, "a-law": alaw,
		"no data": good[:36], "truncated fmt": good[:30],
	} {
		if _, _, err := Decode(b); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func sine(f float64, rate, n int) []int16 {
	out := make([]int16, n)
	for i := range out {
		out[i] = int16(8000 * math.Sin(2*math.Pi*f*float64(i)/float64(rate)))
	}
	return out
}

// power measures the amplitude of frequency f in s by correlation.
func power(s []int16, f float64, rate int) float64 {
	var re, im float64
	for i, v := range s {
		re += float64(v) * math.Cos(2*math.Pi*f*float64(i)/float64(rate))
		im += float64(v) * math.Sin(2*math.Pi*f*float64(i)/float64(rate))
	}
	return 2 * math.Hypot(re, im) / float64(len(s))
}

func TestResample(t *testing.T) {
	// 1 kHz survives 16k->8k and 8k->16k with its amplitude; 6 kHz is removed going down.
	down := Resample(sine(1000, 16000, 16000), 16000, 8000)
	if len(down) != 8000 {
		t.Fatalf("16k->8k: %d samples", len(down))
	}
	if a := power(down, 1000, 8000); a < 7000 || a > 8800 {
		t.Errorf("16k->8k: 1 kHz amplitude %.0f, want ~8000", a)
	}
	alias := Resample(sine(6000, 16000, 16000), 16000, 8000)
	if a := power(alias, 2000, 8000); a > 800 {
		t.Errorf("16k->8k: 6 kHz aliased to 2 kHz with amplitude %.0f", a)
	}
	up := Resample(sine(1000, 8000, 8000), 8000, 16000)
	if len(up) != 16000 {
		t.Fatalf("8k->16k: %d samples", len(up))
	}
	if a := power(up, 1000, 16000); a < 7000 || a > 8800 {
		t.Errorf("8k->16k: 1 kHz amplitude %.0f", a)
	}
	odd := Resample(sine(500, 11025, 11025), 11025, 8000)
	if len(odd) != 8000 || power(odd, 500, 8000) < 7000 {
		t.Errorf("11025->8000: %d samples, amplitude %.0f", len(odd), power(odd, 500, 8000))
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(Encode([]int16{1, 2, 3}, 8000))
	f.Add([]byte("RIFF\x00\x00\x00\x00WAVEdata\xff\xff\xff\xff"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, rate, err := Decode(b)
		if err == nil && (rate < 4000 || rate > 48000 || len(s) > MaxSamples) {
			t.Fatalf("accepted rate %d, %d samples", rate, len(s))
		}
	})
}
