package sdp

import (
	"strings"

	"github.com/sidecar-voip/sidecar/media/codecs"
)

// Format is one RTP payload format of an audio m-line: a payload type bound to an encoding.
type Format struct {
	// PT is the RTP payload type (0-127).
	PT uint8
	// Name is the canonical, lower-case codec name used by profiles ("pcmu", "g722",
	// "telephone-event"); empty for an encoding the sidecar does not know.
	Name string
	// Encoding is the encoding name as written in a=rtpmap ("PCMU", "opus").
	Encoding string
	// ClockRate is the RTP clock rate in Hz.
	ClockRate int
	// Channels is the channel count (1 unless the rtpmap says otherwise).
	Channels int
	// Fmtp is the a=fmtp parameter string, without the payload type.
	Fmtp string
}

// TelephoneEvent is the canonical name of the RFC 4733 DTMF payload format.
const TelephoneEvent = codecs.TelephoneEvent

// DefaultTelephoneEventPT is the payload type the sidecar offers telephone-event on.
const DefaultTelephoneEventPT = 101

// format returns the format the sidecar offers c on.
func format(c codecs.Codec) Format {
	return Format{PT: c.PT, Name: c.Name, Encoding: c.Encoding, ClockRate: c.ClockRate, Channels: c.Channels, Fmtp: c.Fmtp}
}

// Known returns the sidecar's default format for a codec name (package media/codecs' table).
func Known(name string) (Format, bool) {
	c, ok := codecs.Lookup(name)
	if !ok {
		return Format{}, false
	}
	return format(c), true
}

// canonical returns the canonical name of an encoding at a clock rate and channel count, or ""
// when the sidecar does not know it.
func canonical(encoding string, rate, channels int) string {
	if c, ok := codecs.ByEncoding(encoding, rate, channels); ok {
		return c.Name
	}
	// telephone-event is also offered at other clock rates (16000, 48000) next to wideband codecs.
	if strings.EqualFold(encoding, TelephoneEvent) {
		return TelephoneEvent
	}
	return ""
}
