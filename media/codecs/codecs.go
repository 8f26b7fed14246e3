// Package codecs is the sidecar's one table of audio codecs: the names profiles use, their
// spellings, the RTP payload types and clock rates SDP offers them with, the sample rate of
// their decoded audio, and which ones the sidecar decodes and encodes itself. Profiles
// (codecs, allow, disallow), SDP offer/answer (package rtp/sdp) and the transcoders (package
// rtp/codec) all read it, so they cannot disagree.
//
// It imports nothing but the standard library, so any package may use it.
package codecs

import "strings"

// TelephoneEvent is the canonical name of the RFC 4733 DTMF payload format. It is not an audio
// codec: profiles do not list it, the SDP side adds it to every offer and answer.
const TelephoneEvent = "telephone-event"

// Codec describes one payload format the sidecar can negotiate.
type Codec struct {
	// Name is the canonical lower-case name profiles use ("pcmu").
	Name string
	// Aliases are the other accepted spellings in profiles ("ulaw"), lower case.
	Aliases []string
	// Encoding is the encoding name written in a=rtpmap ("PCMU").
	Encoding string
	// PT is the payload type the sidecar offers it on: the static one of RFC 3551 when
	// Static, else a dynamic one (96-127).
	PT uint8
	// Static reports a static payload type: offers may omit its a=rtpmap.
	Static bool
	// ClockRate is the RTP clock rate in Hz. It differs from SampleRate for G.722, whose RTP
	// clock is 8000 Hz for 16000 Hz audio (RFC 3551 section 4.5.2).
	ClockRate int
	// SampleRate is the sample rate of the decoded audio in Hz: what an app plays and records.
	SampleRate int
	// Channels is the channel count of the rtpmap (1 unless stated).
	Channels int
	// Fmtp is the a=fmtp parameter string the sidecar offers, without the payload type.
	Fmtp string
	// Transcoded reports that the sidecar decodes and encodes this codec itself (package
	// rtp/codec): apps can play and record it. The others are negotiated for passthrough
	// only (Echo works with them).
	Transcoded bool
}

// table lists the audio codecs in the order "allow = all" adds them, then telephone-event.
var table = [...]Codec{
	{Name: "pcmu", Aliases: []string{"ulaw", "mulaw", "g711u"}, Encoding: "PCMU", PT: 0, Static: true,
		ClockRate: 8000, SampleRate: 8000, Channels: 1, Transcoded: true},
	{Name: "pcma", Aliases: []string{"alaw", "g711a"}, Encoding: "PCMA", PT: 8, Static: true,
		ClockRate: 8000, SampleRate: 8000, Channels: 1, Transcoded: true},
	{Name: "g722", Encoding: "G722", PT: 9, Static: true,
		ClockRate: 8000, SampleRate: 16000, Channels: 1, Transcoded: true},
	{Name: "opus", Encoding: "opus", PT: 111,
		ClockRate: 48000, SampleRate: 48000, Channels: 2, Fmtp: "useinbandfec=1"},
	{Name: "g729", Encoding: "G729", PT: 18, Static: true,
		ClockRate: 8000, SampleRate: 8000, Channels: 1, Fmtp: "annexb=no"},
	{Name: "gsm", Encoding: "GSM", PT: 3, Static: true,
		ClockRate: 8000, SampleRate: 8000, Channels: 1},
	{Name: TelephoneEvent, Encoding: "telephone-event", PT: 101,
		ClockRate: 8000, SampleRate: 8000, Channels: 1, Fmtp: "0-16"},
}

// audio is the number of audio codecs at the start of table.
const audio = len(table) - 1

// defaults is the codec list of a party whose profile sets none (and of a call without
// profiles): what docs/templates.md documents.
var defaults = [...]string{"pcmu", "pcma"}

// Lookup returns the codec (or telephone-event) with a canonical name or an alias, in any
// case.
func Lookup(name string) (Codec, bool) {
	name = strings.ToLower(strings.TrimSpace(name))
	for _, c := range table {
		if c.Name == name {
			return c, true
		}
		for _, a := range c.Aliases {
			if a == name {
				return c, true
			}
		}
	}
	return Codec{}, false
}

// Canonical returns the canonical name of an audio codec spelling ("ulaw" -> "pcmu"); ok is
// false for unknown names and for telephone-event.
func Canonical(spelling string) (name string, ok bool) {
	c, ok := Lookup(spelling)
	if !ok || c.Name == TelephoneEvent {
		return "", false
	}
	return c.Name, true
}

// Static returns the codec of a static payload type of RFC 3551 the sidecar knows.
func Static(pt uint8) (Codec, bool) {
	for _, c := range table {
		if c.Static && c.PT == pt {
			return c, true
		}
	}
	return Codec{}, false
}

// ByEncoding returns the codec written in an a=rtpmap as encoding/rate[/channels]; the
// channel count of opus is not compared (it is always written /2).
func ByEncoding(encoding string, rate, channels int) (Codec, bool) {
	for _, c := range table {
		if strings.EqualFold(c.Encoding, encoding) && c.ClockRate == rate &&
			(c.Name == "opus" || c.Channels == channels) {
			return c, true
		}
	}
	return Codec{}, false
}

// Names returns the canonical names of the audio codecs, in the order "allow = all" adds them.
func Names() []string {
	out := make([]string, audio)
	for i, c := range table[:audio] {
		out[i] = c.Name
	}
	return out
}

// Default returns the codec list used when a party's profile sets none: pcmu, pcma.
func Default() []string { return append([]string(nil), defaults[:]...) }
