package dtmf

import "math"

// The DTMF frequency grid (ITU-T Q.23): a digit is one row tone plus one column tone.
var (
	rowFreqs = [4]float64{697, 770, 852, 941}
	colFreqs = [4]float64{1209, 1336, 1477, 1633}
	keypad   = [4][4]rune{{'1', '2', '3', 'A'}, {'4', '5', '6', 'B'}, {'7', '8', '9', 'C'}, {'*', '0', '#', 'D'}}
)

// Detection thresholds.
const (
	// minMeanSquare is the block energy floor per sample (about -36 dBm0 in 16-bit PCM).
	minMeanSquare = 2e4
	// minPurity is the share of the block energy the two tones must hold.
	minPurity = 0.5
	// maxTwist is the largest power ratio between the row and column tones (about 10 dB).
	maxTwist = 10
)

// Detector finds DTMF digits in linear PCM with the Goertzel algorithm, over blocks of 25.6 ms
// (205 samples at 8 kHz). A digit is reported once when two consecutive blocks hold it, and
// again only after a block without it.
type Detector struct {
	n        int
	coef     [8]float64
	block    []float64
	fill     int
	cand     rune // digit of the previous block
	reported rune // digit reported and still sounding
}

// NewDetector returns a detector for PCM at rate Hz (8000 or 16000).
func NewDetector(rate int) *Detector {
	n := rate * 256 / 10000
	d := &Detector{n: n, block: make([]float64, n)}
	for i, f := range append(rowFreqs[:], colFreqs[:]...) {
		k := math.Round(float64(n) * f / float64(rate))
		d.coef[i] = 2 * math.Cos(2*math.Pi*k/float64(n))
	}
	return d
}

// Write consumes samples; emit receives each digit detected.
func (d *Detector) Write(pcm []int16, emit func(rune)) {
	for _, s := range pcm {
		d.block[d.fill] = float64(s)
		d.fill++
		if d.fill == d.n {
			d.fill = 0
			digit := d.analyze()
			switch {
			case digit == 0 || digit != d.reported && digit != d.cand:
				d.reported = 0
			case digit == d.cand && digit != d.reported:
				d.reported = digit
				emit(digit)
			}
			d.cand = digit
		}
	}
}

// analyze returns the digit of the current block, or 0.
func (d *Detector) analyze() rune {
	var energy float64
	for _, x := range d.block {
		energy += x * x
	}
	if energy/float64(d.n) < minMeanSquare {
		return 0
	}
	var pow [8]float64
	for i, c := range d.coef {
		var s1, s2 float64
		for _, x := range d.block {
			s1, s2 = x+c*s1-s2, s1
		}
		pow[i] = s1*s1 + s2*s2 - c*s1*s2
	}
	row, col := best(pow[:4]), best(pow[4:])
	pr, pc := pow[row], pow[4+col]
	if pr > pc*maxTwist || pc > pr*maxTwist {
		return 0
	}
	// A pure tone of amplitude A gives Goertzel power (A*N/2)^2 and energy A^2*N/2.
	if (pr+pc)/(energy*float64(d.n)/2) < minPurity {
		return 0
	}
	return keypad[row][col]
}

func best(p []float64) int {
	b := 0
	for i := range p {
		if p[i] > p[b] {
			b = i
		}
	}
	return b
}
