package dialplan

import (
	"context"

	"github.com/sidecar-voip/sidecar/media"
	"github.com/sidecar-voip/sidecar/profile"
	"github.com/sidecar-voip/sidecar/request"
)

// Channel is one call as dialplan applications act on it. The SIP service implements it.
// Apps reach the call's audio through Call.Audio, which uses Media.
//
// Every method takes the call's context, which is cancelled when the remote party hangs up
// (BYE, CANCEL) or the service drains; methods then return promptly with an error.
type Channel interface {
	// Request is the INVITE that started the call.
	Request() *request.Request
	// Caller and Callee are the parties' profiles; nil when the party has no template.
	Caller() *profile.Profile
	Callee() *profile.Profile
	// Progress sends a provisional response before answer: 180 Ringing or 183 Session
	// Progress. After answer it does nothing.
	Progress(ctx context.Context, code int) error
	// Answer answers the call (200 OK with SDP once the media plane exists) and returns when
	// the ACK arrives. Answering an answered call does nothing.
	Answer(ctx context.Context) error
	// Answered reports whether the call has been answered.
	Answered() bool
	// Reject ends an unanswered call with a final response (code 300-699). retryAfter > 0 adds
	// a Retry-After header (seconds). After answer it returns an error.
	Reject(ctx context.Context, code int, reason string, retryAfter int) error
	// Redirect ends an unanswered call with 302 Moved Temporarily and Contact: target
	// (a SIP URI). After answer it returns an error.
	Redirect(ctx context.Context, target string) error
	// Hangup ends an answered call with BYE. On an unanswered call it returns an error: the
	// dialplan maps a hangup cause to Reject instead.
	Hangup(ctx context.Context) error
	// Media returns the call's media session, nil until Answer or Progress(183) opened it
	// (with the parameters of MediaFor).
	Media() media.Session
}
