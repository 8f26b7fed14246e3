// Package tone generates call-progress tones (ringback, busy, congestion, dial, beep) as PCM,
// with their on/off cadences, for the PlayTones application.
package tone

import (
	"io"
	"math"
	"sort"
	"time"
)

// Segment is one part of a cadence: the frequencies summed (none for silence) for a duration.
type Segment struct {
	Freqs []float64
	Dur   time.Duration
}

// Tones are the tones by name, North American (ITU-T E.180 "US") values.
var Tones = map[string][]Segment{
	"ringback":   {{[]float64{440, 480}, 2 * time.Second}, {nil, 4 * time.Second}},
	"busy":       {{[]float64{480, 620}, 500 * time.Millisecond}, {nil, 500 * time.Millisecond}},
	"congestion": {{[]float64{480, 620}, 250 * time.Millisecond}, {nil, 250 * time.Millisecond}},
	"dial":       {{[]float64{350, 440}, time.Second}},
	"beep":       {{[]float64{1000}, 250 * time.Millisecond}},
}

// Names returns the tone names, sorted.
func Names() []string {
	var n []string
	for k := range Tones {
		n = append(n, k)
	}
	sort.Strings(n)
	return n
}

// amplitude is each frequency's peak (about -13 dBm0 per tone for a 2-tone signal).
const amplitude = 4000

// Generator plays a cadence in a loop at a sample rate for a total duration. It implements
// media.Source.
type Generator struct {
	cad   []Segment
	rate  int
	left  int // samples still to produce; < 0 for ever
	seg   int
	pos   int // sample within the segment
	phase int // sample count since start, for continuous phase
}

// New returns a generator of cadence at rate Hz for total (0: one pass of the cadence).
func New(cadence []Segment, rate int, total time.Duration) *Generator {
	left := int(int64(total) * int64(rate) / int64(time.Second))
	if total == 0 {
		left = 0
		for _, s := range cadence {
			left += int(int64(s.Dur) * int64(rate) / int64(time.Second))
		}
	}
	return &Generator{cad: cadence, rate: rate, left: left}
}

// ReadFrame fills frame with the next samples; io.EOF at the end.
func (g *Generator) ReadFrame(frame []int16) (int, error) {
	if g.left == 0 {
		return 0, io.EOF
	}
	n := 0
	for n < len(frame) && g.left != 0 {
		s := g.cad[g.seg]
		segLen := int(int64(s.Dur) * int64(g.rate) / int64(time.Second))
		if g.pos >= segLen {
			g.pos = 0
			g.seg = (g.seg + 1) % len(g.cad)
			continue
		}
		v := 0.0
		t := float64(g.phase) / float64(g.rate)
		for _, f := range s.Freqs {
			v += amplitude * math.Sin(2*math.Pi*f*t)
		}
		frame[n] = int16(v)
		n++
		g.pos++
		g.phase++
		g.left--
	}
	return n, nil
}
