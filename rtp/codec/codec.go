// Package codec names the audio codecs the sidecar can encode and decode, behind one small
// interface: an Encoder turns 16-bit linear PCM into a payload, a Decoder the reverse. Codecs
// the sidecar only passes through (G.729, opus, GSM) are absent: apps that never decode, such
// as echo, still negotiate them.
package codec

import (
	"github.com/sidecar-voip/sidecar/media/codecs"
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
	// SampleRate is the audio sample rate in Hz (16000 for G.722, whose RTP clock is 8000),
	// from package media/codecs' table.
	SampleRate int
	// NewEncoder and NewDecoder make per-call coder state.
	NewEncoder func() Encoder
	NewDecoder func() Decoder
}

// coders are the implementations of the codecs media/codecs marks Transcoded.
var coders = map[string]struct {
	enc func() Encoder
	dec func() Decoder
}{
	"pcmu": {func() Encoder { return g711.Ulaw{} }, func() Decoder { return g711.Ulaw{} }},
	"pcma": {func() Encoder { return g711.Alaw{} }, func() Decoder { return g711.Alaw{} }},
	"g722": {func() Encoder { return g722.NewEncoder() }, func() Decoder { return g722.NewDecoder() }},
}

// Lookup returns the codec with a name (or alias) of package media/codecs' table; ok is false
// for codecs the sidecar only passes through.
func Lookup(name string) (c Codec, ok bool) {
	t, ok := codecs.Lookup(name)
	if !ok || !t.Transcoded {
		return Codec{}, false
	}
	impl, ok := coders[t.Name]
	if !ok {
		return Codec{}, false
	}
	return Codec{Name: t.Name, SampleRate: t.SampleRate, NewEncoder: impl.enc, NewDecoder: impl.dec}, true
}
