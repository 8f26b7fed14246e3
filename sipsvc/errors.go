package sipsvc

import (
	"errors"

	"github.com/sidecar-voip/sidecar/internal/sipstatus"
)

// ErrDraining is the cause of a call's context when the service drains and the grace period
// is over.
var ErrDraining = errors.New("service draining")

// drainHangup is the cause the drain gives every call once the grace period is over: it wraps
// ErrDraining and carries the answer of a call still unanswered, 503 with Retry-After as at
// max-calls.
func drainHangup() error {
	return &sipstatus.Error{Code: 503, Reason: sipstatus.Phrase(503), RetryAfter: retryAfterBusy, Err: ErrDraining}
}

// ErrNoACK reports a 200 OK that the caller never acknowledged.
var ErrNoACK = errors.New("no ACK for 200 OK")

// ErrAnswered reports a final error answer attempted on an answered call.
var ErrAnswered = errors.New("call already answered")

// ErrNotAnswered reports Hangup on a call that was never answered.
var ErrNotAnswered = errors.New("call not answered")

// ErrCallEnded reports an operation on a call that already has its final answer.
var ErrCallEnded = errors.New("call already ended")

// ErrNoMedia reports Answer or early media on a service without a media plane.
var ErrNoMedia = errors.New("no media plane configured")

// ErrMediaEnded is the cause of a call's context when its media session ended by itself.
var ErrMediaEnded = errors.New("media session ended")

// ErrPeerHangup is the cause of a call's context when the caller ended the dialog (BYE or
// CANCEL).
var ErrPeerHangup = errors.New("caller ended the call")

// ErrServed reports a second call to Serve.
var ErrServed = errors.New("server already serving")
