// Package rtp is the sidecar's media plane: it implements media.Plane on github.com/pion/rtp,
// github.com/pion/rtcp and the offer/answer of package rtp/sdp.
//
// An Engine owns a pool of even RTP ports (RTCP on the next odd port) and one shared pacing
// clock; each call's Session owns one port pair, one read loop per socket with a reused buffer,
// its RTCP statistics and its DTMF receiver. Apps drive a Session: Echo sends the caller's
// packets back, Play sends encoded audio paced by the shared clock, Digits delivers DTMF from
// RFC 4733 events and SIP INFO, SendDTMF sends RFC 4733 events.
//
// Inside this package github.com/pion/rtp is imported under its own name; the package name
// shadows it only for importers, which alias one of them.
package rtp
