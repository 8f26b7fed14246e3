package sipsvctest

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/sidecar-voip/sidecar/media"
)

// Media is a test double of media.Plane for signalling tests: the real plane is package
// rtp's job. Every session answers with a fixed SDP and moves no audio. It records what the
// SIP service asked of it.
type Media struct {
	mu       sync.Mutex
	fail     error
	sessions map[string]*Session
	order    []string
}

// SDP is the fixed body of every session of Media.
func SDP(version int) []byte {
	return fmt.Appendf(nil, "v=0\r\no=sidecar 1 %d IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n"+
		"t=0 0\r\nm=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n", version)
}

// Open starts a session for p.CallID.
func (m *Media) Open(_ context.Context, p media.Params) (media.Session, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return nil, m.fail
	}
	p.Offer = append([]byte(nil), p.Offer...)
	s := &Session{params: p, local: SDP(1), done: make(chan struct{}), digits: make(chan media.Digit, 32)}
	if m.sessions == nil {
		m.sessions = make(map[string]*Session)
	}
	m.sessions[p.CallID] = s
	m.order = append(m.order, p.CallID)
	return s, nil
}

// Fail makes every later Open return err (use a *sipstatus.Error to choose the SIP
// answer); nil restores success.
func (m *Media) Fail(err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.fail = err
}

// Session returns the session opened for callID, nil when none was.
func (m *Media) Session(callID string) *Session {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.sessions[callID]
}

// Opened returns the call ids sessions were opened for, in order.
func (m *Media) Opened() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.order...)
}

// Session is one call's session of Media. Its audio methods fail with media.ErrNoEncoder
// (it moves no audio); digits given to InjectDTMF reach Digits.
type Session struct {
	params media.Params
	done   chan struct{}
	digits chan media.Digit

	mu      sync.Mutex
	local   []byte
	remotes [][]byte
	closed  bool
	ended   bool
}

// LocalSDP returns the session's SDP.
func (s *Session) LocalSDP() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.local
}

// SetRemote records sdp and answers with a new version of the fixed SDP.
func (s *Session) SetRemote(sdp []byte) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.remotes = append(s.remotes, append([]byte(nil), sdp...))
	s.local = SDP(1 + len(s.remotes))
	return s.local, nil
}

// Done is closed by End.
func (s *Session) Done() <-chan struct{} { return s.done }

// End makes the session end by itself, as the real plane does on RTP inactivity.
func (s *Session) End() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.ended {
		s.ended = true
		close(s.done)
	}
}

// Close records that the service released the session.
func (s *Session) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	return nil
}

// Closed reports whether Close was called.
func (s *Session) Closed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// Offer is the SDP the session was opened with (the INVITE's body).
func (s *Session) Offer() []byte { return s.params.Offer }

// Codecs is the codec list the session was opened with.
func (s *Session) Codecs() []string { return s.params.Codecs }

// Params are the parameters the session was opened with.
func (s *Session) Params() media.Params { return s.params }

// Codec returns "": nothing is negotiated.
func (s *Session) Codec() string { return "" }

// SampleRate returns 0: the session cannot play.
func (s *Session) SampleRate() int { return 0 }

// Play fails with media.ErrNoEncoder.
func (s *Session) Play(context.Context, media.Source) error { return media.ErrNoEncoder }

// Record fails with media.ErrNoEncoder.
func (s *Session) Record(context.Context, media.Sink) error { return media.ErrNoEncoder }

// SendDTMF fails with media.ErrNoTelephoneEvent.
func (s *Session) SendDTMF(context.Context, rune, time.Duration) error {
	return media.ErrNoTelephoneEvent
}

// Echo waits for '#' on Digits or the end of ctx, as the real Echo does, sending nothing.
func (s *Session) Echo(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case d := <-s.digits:
			if d.Digit == '#' {
				return nil
			}
		}
	}
}

// Digits returns the digits given to InjectDTMF.
func (s *Session) Digits() <-chan media.Digit { return s.digits }

// FlushDigits discards the queued digits.
func (s *Session) FlushDigits() {
	for {
		select {
		case <-s.digits:
		default:
			return
		}
	}
}

// InjectDTMF queues a digit of a SIP INFO on Digits (dropped when 32 are queued).
func (s *Session) InjectDTMF(digit rune, dur time.Duration) {
	select {
	case s.digits <- media.Digit{Digit: digit, Duration: dur, Source: media.SourceInfo}:
	default:
	}
}

// Remotes returns the SDPs given to SetRemote, in order.
func (s *Session) Remotes() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][]byte(nil), s.remotes...)
}
