// Package wav reads RIFF WAVE files of 16-bit linear PCM, the format of the sidecar's prompts,
// and resamples audio between the rates the codecs use.
package wav

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// ErrFormat reports a file that is not 16-bit PCM WAVE.
var ErrFormat = errors.New("unsupported wav file")

// MaxSamples bounds the audio one file may hold (10 minutes at 16 kHz).
const MaxSamples = 10 * 60 * 16000

// Decode reads a WAVE file of 16-bit PCM, mono or stereo (mixed down), or of 8-bit G.711
// (A-law, format 6; µ-law, format 7: the voicemail store's messages), at any rate from 4000
// to 48000 Hz. It returns the mono samples and their rate.
func Decode(b []byte) (samples []int16, rate int, err error) {
	if len(b) < 12 || string(b[0:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return nil, 0, fmt.Errorf("%w: not a RIFF WAVE file", ErrFormat)
	}
	var channels, bits int
	var format uint16
	var haveFmt bool
	for p := 12; p+8 <= len(b); {
		id := string(b[p : p+4])
		size := int(binary.LittleEndian.Uint32(b[p+4:]))
		body := b[p+8:]
		if size < 0 || size > len(body) {
			if id != "data" {
				return nil, 0, fmt.Errorf("%w: chunk %q of %d bytes past the end", ErrFormat, id, size)
			}
			size = len(body) - len(body)%2 // a streamed file's data size may be wrong: use what is there
		}
		body = body[:size]
		switch id {
		case "fmt ":
			if size < 16 {
				return nil, 0, fmt.Errorf("%w: fmt chunk of %d bytes", ErrFormat, size)
			}
			format = binary.LittleEndian.Uint16(body)
			channels = int(binary.LittleEndian.Uint16(body[2:]))
			rate = int(binary.LittleEndian.Uint32(body[4:]))
			bits = int(binary.LittleEndian.Uint16(body[14:]))
			if format == 0xfffe && size >= 26 { // WAVE_FORMAT_EXTENSIBLE: the subformat's first two bytes
				format = binary.LittleEndian.Uint16(body[24:])
			}
			g711 := (format == 6 || format == 7) && bits == 8 && channels == 1
			if !(format == 1 && bits == 16 || g711) || channels < 1 || channels > 2 || rate < 4000 || rate > 48000 {
				return nil, 0, fmt.Errorf("%w: format %d, %d bits, %d channels, %d Hz; want 16-bit PCM, mono or stereo, or mono G.711", ErrFormat, format, bits, channels, rate)
			}
			haveFmt = true
		case "data":
			if !haveFmt {
				return nil, 0, fmt.Errorf("%w: data before fmt", ErrFormat)
			}
			if format == 6 || format == 7 {
				if size > MaxSamples {
					return nil, 0, fmt.Errorf("%w: %d samples is over %d", ErrFormat, size, MaxSamples)
				}
				samples = make([]int16, size)
				for i, c := range body {
					if format == 6 {
						samples[i] = alawToLinear(c)
					} else {
						samples[i] = ulawToLinear(c)
					}
				}
				return samples, rate, nil
			}
			n := size / 2 / channels
			if n > MaxSamples {
				return nil, 0, fmt.Errorf("%w: %d samples is over %d", ErrFormat, n, MaxSamples)
			}
			samples = make([]int16, n)
			for i := range samples {
				if channels == 1 {
					samples[i] = int16(binary.LittleEndian.Uint16(body[2*i:]))
				} else {
					l := int(int16(binary.LittleEndian.Uint16(body[4*i:])))
					r := int(int16(binary.LittleEndian.Uint16(body[4*i+2:])))
					samples[i] = int16((l + r) / 2)
				}
			}
			return samples, rate, nil
		}
		p += 8 + size + size%2
	}
	return nil, 0, fmt.Errorf("%w: no data chunk", ErrFormat)
}

// Encode writes mono 16-bit PCM samples as a WAVE file.
func Encode(samples []int16, rate int) []byte {
	b := make([]byte, 44+2*len(samples))
	copy(b, "RIFF")
	binary.LittleEndian.PutUint32(b[4:], uint32(36+2*len(samples)))
	copy(b[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(b[16:], 16)
	binary.LittleEndian.PutUint16(b[20:], 1)
	binary.LittleEndian.PutUint16(b[22:], 1)
	binary.LittleEndian.PutUint32(b[24:], uint32(rate))
	binary.LittleEndian.PutUint32(b[28:], uint32(rate*2))
	binary.LittleEndian.PutUint16(b[32:], 2)
	binary.LittleEndian.PutUint16(b[34:], 16)
	copy(b[36:], "data")
	binary.LittleEndian.PutUint32(b[40:], uint32(2*len(samples)))
	for i, s := range samples {
		binary.LittleEndian.PutUint16(b[44+2*i:], uint16(s))
	}
	return b
}

// halfband is a 15-tap half-band low-pass FIR (windowed sinc, cut-off at a quarter of the input
// rate, Hamming window, gain 1 at DC, in 1/65536 units) applied before dropping every other
// sample.
var halfband = [15]int{-239, 0, 1060, 0, -4483, 0, 19985, 32891, 19985, 0, -4483, 0, 1060, 0, -239}

// Resample converts mono samples from one rate to another: 2:1 by a half-band filter, other
// ratios by linear interpolation (after the filter when going down).
func Resample(in []int16, from, to int) []int16 {
	if from == to || len(in) == 0 {
		return in
	}
	if from == 2*to {
		return decimate(in)
	}
	if from > to {
		in = lowpass(in) // attenuate above half the old Nyquist before interpolating
	}
	n := int(int64(len(in)) * int64(to) / int64(from))
	out := make([]int16, n)
	for i := range out {
		pos := int64(i) * int64(from)
		j := int(pos / int64(to))
		frac := float64(pos%int64(to)) / float64(to)
		a := float64(in[j])
		bv := a
		if j+1 < len(in) {
			bv = float64(in[j+1])
		}
		out[i] = int16(a + (bv-a)*frac)
	}
	return out
}

func decimate(in []int16) []int16 {
	f := lowpass(in)
	out := make([]int16, len(f)/2)
	for i := range out {
		out[i] = f[2*i]
	}
	return out
}

func lowpass(in []int16) []int16 {
	const half = len(halfband) / 2
	sum := 0
	for _, c := range halfband {
		sum += c
	}
	out := make([]int16, len(in))
	for i := range in {
		acc := 0
		for k, c := range halfband {
			j := i + k - half
			if j >= 0 && j < len(in) {
				acc += c * int(in[j])
			}
		}
		v := acc / sum
		out[i] = int16(max(min(v, 32767), -32768))
	}
	return out
}

// ulawToLinear decodes one G.711 µ-law byte (ITU-T G.711).
func ulawToLinear(u byte) int16 {
	u = ^u
	t := (int(u&0x0f) << 3) + 0x84
	t <<= (u & 0x70) >> 4
	if u&0x80 != 0 {
		return int16(0x84 - t)
	}
	return int16(t - 0x84)
}

// alawToLinear decodes one G.711 A-law byte (ITU-T G.711).
func alawToLinear(a byte) int16 {
	a ^= 0x55
	t := int(a&0x0f) << 4
	seg := int(a&0x70) >> 4
	switch seg {
	case 0:
		t += 8
	case 1:
		t += 0x108
	default:
		t += 0x108
		t <<= seg - 1
	}
	if a&0x80 != 0 {
		return int16(t)
	}
	return int16(-t)
}
