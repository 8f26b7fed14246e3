// Package media is the contract between the SIP service, the media plane and the dialplan
// applications:
//
//   - the SIP service (package sipsvc) opens one Session per call through a Plane, with the
//     Params package dialplan computes from the call's profiles (MediaFor), puts the
//     Session's SDP on the wire and applies the peer's SDP to it;
//   - the media plane (package rtp) implements Plane and Session;
//   - dialplan applications (package app) reach a call's Audio through dialplan.Call, never
//     through package rtp and never by a type assertion.
//
// The package holds interfaces, their small value types and sentinel errors only, so that
// none of the three sides imports another. The codec table is its subpackage codecs. Errors
// that choose a SIP answer are *sipstatus.Error values.
package media

import (
	"context"
	"time"
)

// Plane negotiates and runs the audio of calls. Package rtp implements it.
type Plane interface {
	// Open starts media for one call. A returned error that is a *sipstatus.Error (errors.As)
	// chooses the SIP answer: 488 for no acceptable codec or a malformed SDP, 503 when no RTP
	// port is free.
	Open(ctx context.Context, p Params) (Session, error)
}

// Params are what a Plane needs to open one call's media.
type Params struct {
	// CallID is the call's Call-ID, for logs.
	CallID string
	// Offer is the INVITE's SDP body, empty for a late offer (the Session then makes an
	// offer, and the answer arrives through SetRemote from the ACK).
	Offer []byte
	// Codecs is the call's codec list in preference order (canonical names of package
	// codecs, such as "pcmu"); empty means codecs.Default().
	Codecs []string
	// DTMFMode selects which digits reach Audio.Digits for the whole call: "rfc4733" (or
	// "rfc2833") RTP telephone-events, "info" SIP INFO (InjectDTMF), "inband" tones in the
	// audio, "auto" or "" all but inband.
	DTMFMode string
}

// Session is one call's media: the Audio the call's apps use, and the signalling side the
// SIP service drives. Its methods are safe for concurrent use.
type Session interface {
	Audio
	// DigitSink takes the digits of SIP INFO requests.
	DigitSink

	// LocalSDP is the SDP to send: the answer to the INVITE's offer, or our offer when the
	// INVITE had none.
	LocalSDP() []byte
	// SetRemote applies an SDP from the peer after Open: the ACK's answer to our offer, or a
	// re-INVITE's offer (hold, resume, new address). It returns the SDP to send back (the
	// re-INVITE's 200 body; ignored for an ACK). Errors are *sipstatus.Error where they map to SIP.
	SetRemote(sdp []byte) ([]byte, error)
	// Done is closed when the media ends by itself, for example on RTP inactivity: the SIP
	// service then ends the call with BYE.
	Done() <-chan struct{}
	// Close stops the media and releases its ports and goroutines; a Play, Echo, SendDTMF or
	// Record in progress returns ErrClosed. It is idempotent.
	Close() error
}

// Counters are a media session's RTP counters, for call records and metrics.
type Counters struct {
	// Sent and Received count RTP packets; Lost is expected minus received (RFC 3550,
	// negative with duplicates).
	Sent, Received uint32
	Lost           int64
	// Jitter is the interarrival jitter of the peer's audio.
	Jitter time.Duration
}

// Counted is a Session that reports its RTP counters (the rtp package's does); the SIP
// service reads them when the call ends.
type Counted interface {
	Counters() Counters
}

// DigitSink takes DTMF digits arriving outside RTP (SIP INFO); the session delivers them to
// Audio.Digits when the call's DTMF mode allows it. Unknown characters are ignored.
type DigitSink interface {
	InjectDTMF(digit rune, dur time.Duration)
}
