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
	// ErrNoAnswer reports an empty SDP where the answer to the session's offer was expected
	// (an ACK without SDP after a late offer).
	ErrNoAnswer = errors.New("no answer to the offer")
	// ErrFewerStreams reports an SDP with fewer m-lines than the session (RFC 3264 section 8),
	// or an answer whose m-lines do not match the offer's.
	ErrFewerStreams = errors.New("m-lines removed")
)

// notAcceptable wraps err as a SIP 488.
func notAcceptable(err error) error {
	return sipstatus.New(488, err)
}

// unavailable wraps err as a SIP 503.
func unavailable(err error) error {
	return sipstatus.Newf(503, "open session: %w", err)
}
