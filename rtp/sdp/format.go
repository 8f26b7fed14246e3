package sdp

import (
	"strings"
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
const TelephoneEvent = "telephone-event"

// DefaultTelephoneEventPT is the payload type the sidecar offers telephone-event on.
const DefaultTelephoneEventPT = 101

// known lists the codecs the sidecar can negotiate, by canonical name, with the payload type
// it offers them on.
var known = map[string]Format{
	"pcmu":         {PT: 0, Name: "pcmu", Encoding: "PCMU", ClockRate: 8000, Channels: 1},
	"gsm":          {PT: 3, Name: "gsm", Encoding: "GSM", ClockRate: 8000, Channels: 1},
	"pcma":         {PT: 8, Name: "pcma", Encoding: "PCMA", ClockRate: 8000, Channels: 1},
	"g722":         {PT: 9, Name: "g722", Encoding: "G722", ClockRate: 8000, Channels: 1},
	"g729":         {PT: 18, Name: "g729", Encoding: "G729", ClockRate: 8000, Channels: 1, Fmtp: "annexb=no"},
	"opus":         {PT: 111, Name: "opus", Encoding: "opus", ClockRate: 48000, Channels: 2, Fmtp: "useinbandfec=1"},
	TelephoneEvent: {PT: DefaultTelephoneEventPT, Name: TelephoneEvent, Encoding: "telephone-event", ClockRate: 8000, Channels: 1, Fmtp: "0-16"},
}

// staticPT maps the static payload types of RFC 3551 that the sidecar knows to their names, for
// offers that omit a=rtpmap.
var staticPT = map[uint8]string{0: "pcmu", 3: "gsm", 8: "pcma", 9: "g722", 18: "g729"}

// Known returns the sidecar's default format for a canonical codec name.
func Known(name string) (Format, bool) {
	f, ok := known[strings.ToLower(name)]
	return f, ok
}

// canonical returns the canonical name of an encoding at a clock rate and channel count, or ""
// when the sidecar does not know it.
func canonical(encoding string, rate, channels int) string {
	for name, f := range known {
		if strings.EqualFold(f.Encoding, encoding) && f.ClockRate == rate {
			if name == "opus" || channels == f.Channels {
				return name
			}
		}
	}
	// telephone-event is also offered at other clock rates (16000, 48000) next to wideband codecs.
	if strings.EqualFold(encoding, TelephoneEvent) {
		return TelephoneEvent
	}
	return ""
}
