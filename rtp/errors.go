package rtp

import (
	"errors"

	"github.com/sidecar-voip/sidecar/internal/sipstatus"
)

var (
	// ErrConfig reports an invalid Config.
	ErrConfig = errors.New("invalid rtp config")
	// ErrNoPort reports that every RTP port pair of the pool is in use.
	ErrNoPort = errors.New("no free rtp port")
	// ErrClosed reports an operation on a closed Session or Engine.
	ErrClosed = errors.New("media session closed")
	// ErrNoEncoder reports that no negotiated codec can be encoded (only passthrough codecs).
	ErrNoEncoder = errors.New("no negotiated codec can be encoded")
	// ErrNoTelephoneEvent reports that the peer did not negotiate RFC 4733 telephone-event.
	ErrNoTelephoneEvent = errors.New("telephone-event not negotiated")
	// ErrNoAnswer reports an empty SDP where the answer to the session's offer was expected
	// (an ACK without SDP after a late offer).
	ErrNoAnswer = errors.New("no answer to the offer")
	// ErrFewerStreams reports an SDP with fewer m-lines than the session (RFC 3264 section 8),
	// or an answer whose m-lines do not match the offer's.
	ErrFewerStreams = errors.New("m-lines removed")
	// ErrInterrupted reports a playback replaced by another one.
	ErrInterrupted = errors.New("playback interrupted")
)

// notAcceptable wraps err as a SIP 488.
func notAcceptable(err error) error {
	return sipstatus.New(488, err)
}

// unavailable wraps err as a SIP 503.
func unavailable(err error) error {
	return sipstatus.Newf(503, "open session: %w", err)
}
