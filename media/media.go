// Package media is the contract between the SIP service and the media plane: the SIP service
// (package sipsvc) opens a Session per call through a Plane and puts its SDP on the wire; the
// media plane (package rtp) implements them; dialplan apps reach a call's Session through the
// Channel (see Carrier).
//
// The package holds interfaces only, so neither side imports the other. Errors that choose
// a SIP answer are *sipstatus.Error values.
package media

import (
	"context"
	"time"
)

// Plane negotiates and runs the audio of calls. Package rtp implements it.
type Plane interface {
	// Open starts media for one call. offer is the INVITE's SDP body, empty for a late offer
	// (the Session then makes an offer, and the answer arrives through SetRemote from the ACK).
	// codecs is the party's codec list in preference order (profile names such as "pcmu");
	// empty means the plane's defaults. A returned error that is a *sipstatus.Error (errors.As)
	// chooses the SIP answer: 488 for no acceptable codec or a malformed SDP, 503 when no RTP
	// port is free.
	Open(ctx context.Context, callID string, offer []byte, codecs []string) (Session, error)
}

// Session is one call's media.
type Session interface {
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
	// Close stops the media and releases its ports and goroutines. It is idempotent.
	Close() error
}

// Carrier is implemented by channels that carry media; dialplan apps that need audio
// type-assert their dialplan.Channel to it.
type Carrier interface {
	// Media returns the call's session, or nil before the call has media (not yet answered
	// or progressed with early media).
	Media() Session
}

// DigitSink is implemented by sessions that take DTMF digits arriving outside RTP (SIP INFO);
// the session delivers them to its apps when the party's DTMF mode allows it.
type DigitSink interface {
	InjectDTMF(digit rune, dur time.Duration)
}
