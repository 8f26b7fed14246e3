package rtp

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sidecar-voip/sidecar/media"
	"github.com/sidecar-voip/sidecar/rtp/dtmf"
	"github.com/sidecar-voip/sidecar/rtp/sdp"
)

// defaultPtime is the packetization time the sidecar sends at unless the peer asks otherwise.
const defaultPtime = 20 * time.Millisecond

// Session is one call's media; it implements media.Session. Apps reach it as media.Audio
// through dialplan.Call.Audio.
type Session struct {
	engine *Engine
	callID string
	codecs []string
	sessID uint64

	pair     *pair // the port pair: sockets bound by the pool, kept across calls
	port     int
	start    time.Time
	lastRx   atomic.Int64 // ns since start of the last RTP packet (or of Open/SetRemote)
	noAnswer atomic.Bool  // the answer to our late offer failed before any route existed
	awaiting bool         // an answer to offered is expected (under mu; here, it packs with noAnswer)

	done, closed        chan struct{}
	doneOnce, closeOnce sync.Once

	route atomic.Pointer[route]

	mu       sync.Mutex // signalling state and playout below
	version  uint64
	localSDP []byte
	offered  []sdp.Format // our outstanding offer (awaiting: see above)
	streams  []sdp.Stream // the m-lines of the last SDP exchanged (RFC 3264 section 8: never fewer)
	audioIdx int          // the audio m-line's index in streams
	play     *playout
	dtmfOut  *dtmfSend
	nextRTCP time.Duration // when the next RTCP report is due, since start; 0 before the first tick

	tx   sender
	rx   rxStats
	echo atomic.Bool

	// Read loop only: the handlers of the pair's datagrams, which run one at a time under
	// the pair's lock.
	dtmfRx   dtmf.Receiver
	inband   *inband
	cands    *candidates // allocated by the first packet from a source other than the SDP's
	dtmfMode atomic.Pointer[string]
	rec      atomic.Pointer[recording] // the Record in progress, nil when none
	digits   digitBox
}

var _ media.Session = (*Session)(nil)

// route is the immutable negotiated state the packet paths read; it is replaced whole.
type route struct {
	dst, rtcpDst netip.AddrPort
	sdpDst       netip.AddrPort // the SDP's c= address and m= port (invalid when none or 0.0.0.0)
	send         bool           // the peer receives: we may send
	hold         bool           // the call is held: no inactivity timeout
	latched      bool
	since        time.Duration // when the route was installed (since Session.start): the latch window opens
	formats      []sdp.Format  // without telephone-event; formats[0] is the primary codec
	te           sdp.Format
	hasTE        bool
	ptime        time.Duration
}

// logger returns the engine's logger with the session's Call-ID, or nil when it writes
// nothing at level: a session keeps no logger of its own (one With per session was held by
// every active call for the few lines a session logs).
func (s *Session) logger(level slog.Level) *slog.Logger {
	if !s.engine.log.Enabled(context.Background(), level) {
		return nil
	}
	return s.engine.log.With("call_id", s.callID)
}

// touch records activity now.
func (s *Session) touch() { s.lastRx.Store(int64(time.Since(s.start))) }

// LocalSDP returns the SDP to send: the answer to the INVITE's offer, or our offer.
func (s *Session) LocalSDP() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.localSDP
}

// SetRemote applies the peer's SDP: the answer to our offer (the ACK of a late-offer INVITE),
// or a new offer (re-INVITE: hold, resume, new address), to which it returns the answer.
//
// An empty body on an established session asks for a fresh offer (a re-INVITE without SDP):
// it is returned, always sendrecv, and the peer's answer then comes through SetRemote again.
// An empty body while an answer is expected (an ACK without the answer to our offer) is a
// failed offer/answer: the offer is withdrawn and the error is a 488.
//
// Errors are *sipstatus.Error 488: a malformed SDP, no acceptable codec, or a re-offer
// with fewer m-lines than the session has (RFC 3264 section 8).
func (s *Session) SetRemote(body []byte) ([]byte, error) {
	select {
	case <-s.closed:
		return nil, media.ErrClosed
	default:
	}
	s.mu.Lock()
	awaiting := s.awaiting
	if awaiting && len(bytes.TrimSpace(body)) == 0 {
		s.awaiting = false
		s.mu.Unlock()
		s.answerFailed()
		return nil, notAcceptable(ErrNoAnswer)
	}
	s.mu.Unlock()
	if len(bytes.TrimSpace(body)) == 0 {
		return s.makeOffer()
	}
	var desc sdp.Description // on the stack: the session keeps its streams, not the description
	if err := sdp.ParseInto(body, &desc); err != nil {
		if awaiting {
			s.answerFailed()
		}
		return nil, notAcceptable(err)
	}
	d := &desc
	if awaiting {
		if err := s.applyAnswer(d); err != nil {
			s.answerFailed()
			return nil, err
		}
		return nil, nil
	}
	out, err := s.applyOffer(d)
	if err != nil {
		return nil, notAcceptable(err)
	}
	return out, nil
}

// answerFailed records that the answer to our offer did not come or was refused. A session
// that has no route yet (a late offer) starts its inactivity clock now: it has no media and
// must not hold its ports forever. Before that, a session without a route is not timed out:
// it is ringing, or its 200 awaits the ACK, and the SIP service bounds both.
func (s *Session) answerFailed() {
	if s.route.Load() == nil && !s.noAnswer.Swap(true) {
		s.touch()
	}
}

// applyOffer answers an offer on the session's port.
func (s *Session) applyOffer(d *sdp.Description) ([]byte, error) {
	formats, err := sdp.Negotiate(d, s.codecs)
	if err != nil {
		return nil, err
	}
	return s.answer(d, formats)
}

// answer answers an offer with the formats negotiated for it.
func (s *Session) answer(d *sdp.Description, formats []sdp.Format) ([]byte, error) {
	r := newRoute(d, formats)
	local := sdp.Local{
		Formats:   formats,
		Direction: d.Direction.Reverse(),
		Ptime:     int(r.ptime / time.Millisecond),
		Streams:   d.Streams,
		Audio:     d.Audio,
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(d.Streams) < len(s.streams) {
		return nil, fmt.Errorf("%w: %d m-lines, the session has %d", ErrFewerStreams, len(d.Streams), len(s.streams))
	}
	s.streams, s.audioIdx = d.Streams, d.Audio
	s.setRoute(r)
	return s.setLocal(local), nil
}

// makeOffer builds and records an offer of the session's codecs. On an established session it
// keeps every m-line of the session, the ones other than audio refused with port 0.
func (s *Session) makeOffer() ([]byte, error) {
	formats, err := sdp.OfferFormats(s.codecs)
	if err != nil {
		return nil, notAcceptable(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.offered = formats
	s.awaiting = true
	// A fresh offer always proposes two-way audio: after a hold it resumes the call.
	return s.setLocal(sdp.Local{Formats: formats, Direction: sdp.SendRecv, Ptime: int(defaultPtime / time.Millisecond),
		Streams: s.streams, Audio: s.audioIdx}), nil
}

// applyAnswer applies the peer's answer to our offer.
func (s *Session) applyAnswer(d *sdp.Description) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if want := max(len(s.streams), 1); len(d.Streams) != want {
		return notAcceptable(fmt.Errorf("%w: answer has %d m-lines, the offer %d", ErrFewerStreams, len(d.Streams), want))
	}
	formats, err := sdp.Select(d, s.offered)
	if err != nil {
		return notAcceptable(err)
	}
	s.awaiting = false
	s.streams, s.audioIdx = d.Streams, d.Audio
	s.setRoute(newRoute(d, formats))
	return nil
}

// setRoute installs a negotiated route, opens its latch window and restarts the inactivity
// clock. A route to the same SDP address as the current one keeps its latched source, so a
// re-INVITE that does not move the media does not reopen latching. Callers hold s.mu.
func (s *Session) setRoute(r *route) {
	r.since = time.Since(s.start)
	if old := s.route.Load(); old != nil && old.latched && r.sdpDst.IsValid() && old.sdpDst == r.sdpDst {
		r.latched, r.dst = true, old.dst
		if old.rtcpDst.Addr() == old.dst.Addr() {
			r.rtcpDst = old.rtcpDst
		}
	}
	s.route.Store(r)
	s.touch()
}

// setLocal renders the local SDP, bumping the o= version only when the content changes.
// The first one is written once, with version 1; a later one is first written with the
// current version into a stack buffer, to compare. Callers hold s.mu.
func (s *Session) setLocal(l sdp.Local) []byte {
	l.SessionID = s.sessID
	l.Addr = s.engine.cfg.Address
	l.Port = s.port
	if s.localSDP != nil {
		l.Version = s.version
		var buf [512]byte
		if bytes.Equal(l.AppendTo(buf[:0]), s.localSDP) {
			return s.localSDP
		}
	}
	s.version++
	l.Version = s.version
	s.localSDP = l.Marshal()
	return s.localSDP
}

func newRoute(d *sdp.Description, formats []sdp.Format) *route {
	r := &route{ptime: defaultPtime, formats: formats}
	// Negotiate and Select put telephone-event last, if at all: the codecs are formats
	// without it, shared (a route never changes them).
	if n := len(formats); n > 0 && formats[n-1].Name == sdp.TelephoneEvent {
		r.te, r.hasTE = formats[n-1], true
		r.formats = formats[: n-1 : n-1]
	}
	for _, f := range r.formats {
		if f.Name == sdp.TelephoneEvent { // not from Negotiate or Select: keep the general way
			r.formats, r.hasTE = nil, false
			for _, f := range formats {
				if f.Name == sdp.TelephoneEvent {
					r.te, r.hasTE = f, true
				} else {
					r.formats = append(r.formats, f)
				}
			}
			break
		}
	}
	if d.Ptime >= 10 && d.Ptime <= 60 && d.Ptime%10 == 0 {
		r.ptime = time.Duration(d.Ptime) * time.Millisecond
	}
	r.hold = d.Hold()
	r.send = d.Direction.Receives() && d.Addr.IsValid() && !d.Addr.IsUnspecified()
	if d.Addr.IsValid() && !d.Addr.IsUnspecified() {
		r.dst = d.AddrPort()
		r.sdpDst = r.dst
		r.rtcpDst = netip.AddrPortFrom(d.Addr, uint16(d.Port+1))
		if d.RTCP.IsValid() { // a=rtcp (RFC 3605)
			r.rtcpDst = d.RTCP
		}
	}
	return r
}

// Done is closed when the media ends by itself: RTP inactivity, or a panic in one of its
// packet handlers. Close does not close it.
func (s *Session) Done() <-chan struct{} { return s.done }

func (s *Session) end(why string) {
	s.doneOnce.Do(func() {
		if l := s.logger(slog.LevelInfo); l != nil {
			l.Info("media session ended", "reason", why)
		}
		close(s.done)
	})
}

// Close stops the media and gives the port pair back to the pool. Once it returns no packet
// handler and no clock tick runs for the session.
func (s *Session) Close() error {
	s.closeOnce.Do(func() {
		close(s.closed)
		s.engine.clock.remove(s)
		s.engine.forget(s)
		s.mu.Lock() // waits for a clock tick in progress; later ones see s.closed
		if s.play != nil {
			s.play.finish(media.ErrClosed)
			s.play = nil
		}
		if s.dtmfOut != nil {
			s.dtmfOut.finish(media.ErrClosed)
			s.dtmfOut = nil
		}
		s.mu.Unlock()
		s.sendBye()
		s.release()
		st := s.Stats()
		if l := s.logger(slog.LevelDebug); l != nil {
			l.Debug("media session closed", "codec", s.Codec(), "sent", st.PacketsSent, "received", st.PacketsReceived,
				"lost", st.PacketsLost, "jitter", st.Jitter, "dropped", st.Dropped, "remote_lost", st.RemoteLost)
		}
	})
	return nil
}

// release detaches the session from its pair (no handler runs for it afterwards) and puts
// the pair back in the pool, its sockets still bound.
func (s *Session) release() {
	s.engine.pool.release(s.pair, s)
}

// write sends one datagram from the session's RTP (or RTCP) socket.
func (s *Session) write(kind int, b []byte, dst netip.AddrPort) error {
	if kind == kindRTCP {
		return s.pair.rtcp.writeTo(b, dst)
	}
	return s.pair.rtp.writeTo(b, dst)
}

// CallID returns the Call-ID the session was opened for.
func (s *Session) CallID() string { return s.callID }

// Port returns the local RTP port.
func (s *Session) Port() int { return s.port }

// Codec returns the canonical name of the primary negotiated codec ("" before negotiation).
func (s *Session) Codec() string {
	if r := s.route.Load(); r != nil && len(r.formats) > 0 {
		return r.formats[0].Name
	}
	return ""
}

// OnHold reports whether the peer has put the call on hold.
func (s *Session) OnHold() bool {
	r := s.route.Load()
	return r != nil && r.hold
}
