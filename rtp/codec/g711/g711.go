// Package g711 adapts github.com/zaf/g711 (ITU-T G.711 mu-law and A-law) to the sidecar's
// append-style encoder and decoder interfaces, without allocating per packet.
package g711

import "github.com/zaf/g711"

// Ulaw is the G.711 mu-law (PCMU) coder. It is stateless.
type Ulaw struct{}

// Encode appends the mu-law bytes of pcm to dst.
func (Ulaw) Encode(dst []byte, pcm []int16) []byte {
	for _, s := range pcm {
		dst = append(dst, g711.EncodeUlawFrame(s))
	}
	return dst
}

// Decode appends the linear samples of a mu-law payload to dst.
func (Ulaw) Decode(dst []int16, payload []byte) []int16 {
	for _, b := range payload {
		dst = append(dst, g711.DecodeUlawFrame(b))
	}
	return dst
}

// Alaw is the G.711 A-law (PCMA) coder. It is stateless.
type Alaw struct{}

// Encode appends the A-law bytes of pcm to dst.
func (Alaw) Encode(dst []byte, pcm []int16) []byte {
	for _, s := range pcm {
		dst = append(dst, g711.EncodeAlawFrame(s))
	}
	return dst
}

// Decode appends the linear samples of an A-law payload to dst.
func (Alaw) Decode(dst []int16, payload []byte) []int16 {
	for _, b := range payload {
		dst = append(dst, g711.DecodeAlawFrame(b))
	}
	return dst
}
