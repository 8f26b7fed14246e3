// Package sdp implements the SDP offer/answer model (RFC 3264) for the sidecar's audio calls:
// Parse reads a peer's SDP (with github.com/pion/sdp/v3) into the audio-relevant Description,
// Negotiate and Select choose payload formats by a profile's codec preference, and Local
// writes the answer or offer the sidecar sends. Non-audio m-lines are refused with port 0.
package sdp
