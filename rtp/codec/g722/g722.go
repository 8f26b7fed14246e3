// Package g722 implements ITU-T G.722 sub-band ADPCM at 64 kbit/s (mode 1): a 24-tap QMF splits
// 16 kHz audio into a low band coded with 6-bit ADPCM and a high band coded with 2-bit ADPCM,
// one byte per pair of input samples. The arithmetic follows the fixed-point blocks of the
// Recommendation (QUANTL, INVQAL, LOGSCL, SCALEL, block 4 predictor) so the output is bit
// exact with other implementations of the same blocks.
//
// In RTP, G.722 is payload type 9 with an 8000 Hz clock rate (RFC 3551 section 4.5.2) although
// it samples at 16000 Hz.
package g722

// band is the ADPCM state of one sub-band.
type band struct {
	s, sp, sz int
	r, a, ap  [3]int
	p         [3]int
	d, b, bp  [7]int
	sg        [7]int
	nb, det   int
}

var (
	q6   = [32]int{0, 35, 72, 110, 150, 190, 233, 276, 323, 370, 422, 473, 530, 587, 650, 714, 786, 858, 940, 1023, 1121, 1219, 1339, 1458, 1612, 1765, 1980, 2195, 2557, 2919, 0, 0}
	iln  = [32]int{0, 63, 62, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 0}
	ilp  = [32]int{0, 61, 60, 59, 58, 57, 56, 55, 54, 53, 52, 51, 50, 49, 48, 47, 46, 45, 44, 43, 42, 41, 40, 39, 38, 37, 36, 35, 34, 33, 32, 0}
	wl   = [8]int{-60, -30, 58, 172, 334, 538, 1198, 3042}
	rl42 = [16]int{0, 7, 6, 5, 4, 3, 2, 1, 7, 6, 5, 4, 3, 2, 1, 0}
	ilb  = [32]int{2048, 2093, 2139, 2186, 2233, 2282, 2332, 2383, 2435, 2489, 2543, 2599, 2656, 2714, 2774, 2834, 2896, 2960, 3025, 3091, 3158, 3228, 3298, 3371, 3444, 3520, 3597, 3676, 3756, 3838, 3922, 4008}
	qm4  = [16]int{0, -20456, -12896, -8968, -6288, -4240, -2584, -1200, 20456, 12896, 8968, 6288, 4240, 2584, 1200, 0}
	qm6  = [64]int{-136, -136, -136, -136, -24808, -21904, -19008, -16704, -14984, -13512, -12280, -11192, -10232, -9360, -8576, -7856, -7192, -6576, -6000, -5456, -4944, -4464, -4008, -3576, -3168, -2776, -2400, -2032, -1688, -1360, -1040, -728, 24808, 21904, 19008, 16704, 14984, 13512, 12280, 11192, 10232, 9360, 8576, 7856, 7192, 6576, 6000, 5456, 4944, 4464, 4008, 3576, 3168, 2776, 2400, 2032, 1688, 1360, 1040, 728, 432, 136, -432, -136}
	qm2  = [4]int{-7408, -1616, 7408, 1616}
	ihn  = [3]int{0, 1, 0}
	ihp  = [3]int{0, 3, 2}
	wh   = [3]int{0, -214, 798}
	rh2  = [4]int{2, 1, 2, 1}
	// qmf holds the even taps of the 24-tap QMF; the filter is symmetric, so the odd taps are
	// the same values reversed.
	qmf = [12]int{3, -11, 12, 32, -210, 951, 3876, -805, 362, -156, 53, -11}
)

func saturate(v int) int {
	if v > 32767 {
		return 32767
	}
	if v < -32768 {
		return -32768
	}
	return v
}

func newBands() [2]band {
	var b [2]band
	b[0].det = 32
	b[1].det = 8
	return b
}

// scale updates the log scale factor nb by step within [0, max] and derives det (LOGSCL/H
// and SCALEL/H); shift is 8 for the low band and 10 for the high band.
func (s *band) scale(step, max, shift int) {
	nb := (s.nb*127)>>7 + step
	if nb < 0 {
		nb = 0
	} else if nb > max {
		nb = max
	}
	s.nb = nb
	wd1 := (nb >> 6) & 31
	wd2 := shift - (nb >> 11)
	var wd3 int
	if wd2 < 0 {
		wd3 = ilb[wd1] << -wd2
	} else {
		wd3 = ilb[wd1] >> wd2
	}
	s.det = wd3 << 2
}

// block4 is the adaptive predictor of the Recommendation (RECONS, PARREC, UPPOL2, UPPOL1,
// UPZERO, DELAYA, FILTEP, FILTEZ, PREDIC), shared by encoder and decoder.
func (s *band) block4(d int) {
	s.d[0] = d
	s.r[0] = saturate(s.s + d)
	s.p[0] = saturate(s.sz + d)

	for i := 0; i < 3; i++ {
		s.sg[i] = s.p[i] >> 15
	}
	wd1 := saturate(s.a[1] << 2)
	wd2 := wd1
	if s.sg[0] == s.sg[1] {
		wd2 = -wd1
	}
	if wd2 > 32767 {
		wd2 = 32767
	}
	wd3 := -128
	if s.sg[0] == s.sg[2] {
		wd3 = 128
	}
	wd3 += wd2 >> 7
	wd3 += (s.a[2] * 32512) >> 15
	if wd3 > 12288 {
		wd3 = 12288
	} else if wd3 < -12288 {
		wd3 = -12288
	}
	s.ap[2] = wd3

	s.sg[0] = s.p[0] >> 15
	s.sg[1] = s.p[1] >> 15
	wd1 = -192
	if s.sg[0] == s.sg[1] {
		wd1 = 192
	}
	wd2 = (s.a[1] * 32640) >> 15
	s.ap[1] = saturate(wd1 + wd2)
	wd3 = saturate(15360 - s.ap[2])
	if s.ap[1] > wd3 {
		s.ap[1] = wd3
	} else if s.ap[1] < -wd3 {
		s.ap[1] = -wd3
	}

	wd1 = 128
	if d == 0 {
		wd1 = 0
	}
	s.sg[0] = d >> 15
	for i := 1; i < 7; i++ {
		s.sg[i] = s.d[i] >> 15
		wd2 = -wd1
		if s.sg[i] == s.sg[0] {
			wd2 = wd1
		}
		wd3 = (s.b[i] * 32640) >> 15
		s.bp[i] = saturate(wd2 + wd3)
	}

	for i := 6; i > 0; i-- {
		s.d[i] = s.d[i-1]
		s.b[i] = s.bp[i]
	}
	for i := 2; i > 0; i-- {
		s.r[i] = s.r[i-1]
		s.p[i] = s.p[i-1]
		s.a[i] = s.ap[i]
	}

	wd1 = saturate(s.r[1] + s.r[1])
	wd1 = (s.a[1] * wd1) >> 15
	wd2 = saturate(s.r[2] + s.r[2])
	wd2 = (s.a[2] * wd2) >> 15
	s.sp = saturate(wd1 + wd2)

	sz := 0
	for i := 6; i > 0; i-- {
		wd1 = saturate(s.d[i] + s.d[i])
		sz += (s.b[i] * wd1) >> 15
	}
	s.sz = saturate(sz)
	s.s = saturate(s.sp + s.sz)
}

// Encoder is the G.722 encoder state of one stream. The zero value is not ready: use NewEncoder.
type Encoder struct {
	band [2]band
	x    [24]int
}

// NewEncoder returns an encoder in the Recommendation's reset state.
func NewEncoder() *Encoder { return &Encoder{band: newBands()} }

// Encode appends one byte per two 16 kHz samples of pcm to dst; an odd last sample is dropped.
func (e *Encoder) Encode(dst []byte, pcm []int16) []byte {
	for j := 0; j+1 < len(pcm); j += 2 {
		copy(e.x[:22], e.x[2:])
		e.x[22] = int(pcm[j])
		e.x[23] = int(pcm[j+1])
		sumodd, sumeven := 0, 0
		for i := 0; i < 12; i++ {
			sumodd += e.x[2*i] * qmf[i]
			sumeven += e.x[2*i+1] * qmf[11-i]
		}
		xlow := (sumeven + sumodd) >> 14
		xhigh := (sumeven - sumodd) >> 14

		lo := &e.band[0]
		el := saturate(xlow - lo.s)
		wd := el
		if el < 0 {
			wd = -(el + 1)
		}
		i := 1
		for ; i < 30; i++ {
			if wd < (q6[i]*lo.det)>>12 {
				break
			}
		}
		ilow := ilp[i]
		if el < 0 {
			ilow = iln[i]
		}
		ril := ilow >> 2
		dlow := (lo.det * qm4[ril]) >> 15
		lo.scale(wl[rl42[ril]], 18432, 8)
		lo.block4(dlow)

		hi := &e.band[1]
		eh := saturate(xhigh - hi.s)
		wd = eh
		if eh < 0 {
			wd = -(eh + 1)
		}
		mih := 1
		if wd >= (564*hi.det)>>12 {
			mih = 2
		}
		ihigh := ihp[mih]
		if eh < 0 {
			ihigh = ihn[mih]
		}
		dhigh := (hi.det * qm2[ihigh]) >> 15
		hi.scale(wh[rh2[ihigh]], 22528, 10)
		hi.block4(dhigh)

		dst = append(dst, byte(ihigh<<6|ilow))
	}
	return dst
}

// Decoder is the G.722 decoder state of one stream. The zero value is not ready: use NewDecoder.
type Decoder struct {
	band [2]band
	x    [24]int
}

// NewDecoder returns a decoder in the Recommendation's reset state.
func NewDecoder() *Decoder { return &Decoder{band: newBands()} }

// Decode appends two 16 kHz samples per payload byte to dst.
func (d *Decoder) Decode(dst []int16, payload []byte) []int16 {
	for _, code := range payload {
		ilow := int(code & 0x3f)
		ihigh := int(code>>6) & 3

		lo := &d.band[0]
		rlow := lo.s + (lo.det*qm6[ilow])>>15
		if rlow > 16383 {
			rlow = 16383
		} else if rlow < -16384 {
			rlow = -16384
		}
		ril := ilow >> 2
		dlowt := (lo.det * qm4[ril]) >> 15
		lo.scale(wl[rl42[ril]], 18432, 8)
		lo.block4(dlowt)

		hi := &d.band[1]
		dhigh := (hi.det * qm2[ihigh]) >> 15
		rhigh := dhigh + hi.s
		if rhigh > 16383 {
			rhigh = 16383
		} else if rhigh < -16384 {
			rhigh = -16384
		}
		hi.scale(wh[rh2[ihigh]], 22528, 10)
		hi.block4(dhigh)

		copy(d.x[:22], d.x[2:])
		d.x[22] = rlow + rhigh
		d.x[23] = rlow - rhigh
		xout1, xout2 := 0, 0
		for i := 0; i < 12; i++ {
			xout2 += d.x[2*i] * qmf[i]
			xout1 += d.x[2*i+1] * qmf[11-i]
		}
		dst = append(dst, int16(saturate(xout1>>11)), int16(saturate(xout2>>11)))
	}
	return dst
}
