package rtp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/sidecar-voip/sidecar/media"
	"github.com/sidecar-voip/sidecar/rtp/sdp"
)

// Engine is the media plane: it implements media.Plane. It is safe for concurrent use.
type Engine struct {
	cfg   Config
	log   *slog.Logger
	pool  *portPool
	clock *clock

	mu       sync.Mutex
	sessions map[*Session]struct{}
	closed   bool
	ended    Stats // counters of the sessions already closed
}

var _ media.Plane = (*Engine)(nil)

// NewEngine validates cfg and starts the shared pacing clock. log may be nil (no logging).
// Close stops it.
func NewEngine(cfg Config, log *slog.Logger) (*Engine, error) {
	if err := cfg.normalize(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	pool, err := newPortPool(cfg.Bind, cfg.PortMin, cfg.PortMax)
	if err != nil {
		return nil, err
	}
	return &Engine{
		cfg:      cfg,
		log:      log,
		pool:     pool,
		clock:    newClock(),
		sessions: map[*Session]struct{}{},
	}, nil
}

// Open starts the media of one call (see media.Plane). The session lives until Close; ctx
// bounds only the opening. Errors are *sipstatus.Error: 488 for a malformed offer or no
// acceptable codec, 503 when no port pair is free or the engine is closed.
func (e *Engine) Open(ctx context.Context, p media.Params) (media.Session, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	offer, codecs := p.Offer, p.Codecs
	s := &Session{
		engine: e,
		callID: p.CallID,
		codecs: append([]string(nil), codecs...),
		sessID: rand.Uint64N(1 << 62),
		done:   make(chan struct{}),
		closed: make(chan struct{}),
	}
	s.SetDTMFMode(p.DTMFMode)
	var (
		answer  *sdp.Description
		formats []sdp.Format
		d       sdp.Description // on the stack: the session keeps its streams, not the description
	)
	if len(offer) > 0 {
		if err := sdp.ParseInto(offer, &d); err != nil {
			return nil, notAcceptable(err)
		}
		var err error
		if formats, err = sdp.Negotiate(&d, codecs); err != nil {
			return nil, notAcceptable(err)
		}
		answer = &d
	} else if _, err := sdp.OfferFormats(codecs); err != nil {
		return nil, notAcceptable(err)
	}

	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil, unavailable(media.ErrClosed)
	}
	e.mu.Unlock()
	s.tx.init()
	s.start = time.Now()
	s.touch()
	// From here the reactor may hand s the pair's datagrams; before a route is installed
	// they are counted and dropped.
	pr, err := e.pool.open(s)
	if err != nil {
		return nil, unavailable(err)
	}
	s.pair, s.port = pr, pr.port

	if answer != nil {
		_, err = s.answer(answer, formats)
	} else {
		_, err = s.makeOffer()
	}
	if err != nil {
		s.release()
		return nil, notAcceptable(err)
	}

	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		s.release()
		return nil, unavailable(media.ErrClosed)
	}
	e.sessions[s] = struct{}{}
	e.mu.Unlock()
	e.clock.add(s)
	if l := s.logger(slog.LevelDebug); l != nil {
		l.Debug("media session opened", "port", s.port)
	}
	return s, nil
}

// Active returns the number of open sessions.
func (e *Engine) Active() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.sessions)
}

// Close closes every session, stops the clock and the reactor and closes the pool's sockets.
// It is idempotent.
func (e *Engine) Close() error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil
	}
	e.closed = true
	list := make([]*Session, 0, len(e.sessions))
	for s := range e.sessions {
		list = append(list, s)
	}
	e.mu.Unlock()
	var errs []error
	for _, s := range list {
		if err := s.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close session %s: %w", s.callID, err))
		}
	}
	e.clock.close()
	if err := e.pool.close(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Totals returns the counters of every session the engine has run, open and closed (jitter
// fields are left zero).
func (e *Engine) Totals() Stats {
	e.mu.Lock()
	t := e.ended
	list := make([]*Session, 0, len(e.sessions))
	for s := range e.sessions {
		list = append(list, s)
	}
	e.mu.Unlock()
	for _, s := range list {
		t.add(s.Stats())
	}
	return t
}

func (e *Engine) forget(s *Session) {
	st := s.Stats()
	e.mu.Lock()
	if _, ok := e.sessions[s]; ok {
		delete(e.sessions, s)
		e.ended.add(st)
	}
	e.mu.Unlock()
}
