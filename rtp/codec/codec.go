// Package codec names the audio codecs the sidecar can encode and decode, behind one small
// interface: an Encoder turns 16-bit linear PCM into a payload, a Decoder the reverse. Codecs
// the sidecar only passes through (G.729, opus, GSM) are absent: apps that never decode, such
// as echo, still negotiate them.
package codec

import (
	"strings"

	"github.com/sidecar-voip/sidecar/rtp/codec/g711"
	"github.com/sidecar-voip/sidecar/rtp/codec/g722"
)

// Encoder encodes 16-bit linear PCM at the codec's sample rate.
type Encoder interface {
	// Encode appends the payload for pcm to dst and returns it.
	Encode(dst []byte, pcm []int16) []byte
}

// Decoder decodes payloads to 16-bit linear PCM at the codec's sample rate.
type Decoder interface {
	// Decode appends the samples of payload to dst and returns it.
	Decode(dst []int16, payload []byte) []int16
}

// Codec describes one codec the sidecar transcodes.
type Codec struct {
	// Name is the canonical lower-case name ("pcmu").
	Name string
	// SampleRate is the audio sample rate in Hz (16000 for G.722, whose RTP clock is 8000).
	SampleRate int
	// NewEncoder and NewDecoder make per-call coder state.
	NewEncoder func() Encoder
	NewDecoder func() Decoder
}

var codecs = map[string]Codec{
	"pcmu": {Name: "pcmu", SampleRate: 8000,
		NewEncoder: func() Encoder { return g711.Ulaw{} }, NewDecoder: func() Decoder { return g711.Ulaw{} }},
	"pcma": {Name: "pcma", SampleRate: 8000,
		NewEncoder: func() Encoder { return g711.Alaw{} }, NewDecoder: func() Decoder { return g711.Alaw{} }},
	"g722": {Name: "g722", SampleRate: 16000,
		NewEncoder: func() Encoder { return g722.NewEncoder() }, NewDecoder: func() Decoder { return g722.NewDecoder() }},
}

// Lookup returns the codec with a canonical name; ok is false for codecs the sidecar only
// passes through.
func Lookup(name string) (c Codec, ok bool) {
	c, ok = codecs[strings.ToLower(name)]
	return c, ok
}
