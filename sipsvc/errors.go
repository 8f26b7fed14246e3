package sipsvc

import "errors"

// ErrDraining is the cause of a call's context when the service drains and the grace period
// is over.
var ErrDraining = errors.New("service draining")

// ErrNoACK reports a 200 OK that the caller never acknowledged.
var ErrNoACK = errors.New("no ACK for 200 OK")

// ErrAnswered reports an operation that needs an unanswered call (Reject, Redirect).
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
