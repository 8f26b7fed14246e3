// Package rtp is the sidecar's media plane: it implements media.Plane on github.com/pion/rtp,
// github.com/pion/rtcp and the offer/answer of package rtp/sdp.
//
// An Engine owns a pool of even RTP ports (RTCP on the next odd port), bound once and kept
// across calls, the reactors that read them (epoll on Linux, reactor_linux.go; a goroutine
// per socket elsewhere) and one shared pacing clock; each call's Session holds one port pair
// while it lives, its RTCP statistics and its DTMF receiver, and has no goroutine of its own:
// the reactors run its packet handlers. Apps drive a Session: Echo sends the caller's
// packets back, Play sends encoded audio paced by the shared clock, Digits delivers DTMF from
// RFC 4733 events and SIP INFO, SendDTMF sends RFC 4733 events.
//
// Inside this package github.com/pion/rtp is imported under its own name; the package name
// shadows it only for importers, which alias one of them.
package rtp
