package sipsvc

import (
	"context"
	"time"
)

// drainPoll is how often Drain checks whether the last call has ended.
const drainPoll = 20 * time.Millisecond

// Drain stops the service gracefully: from now on new INVITEs and OPTIONS get 503 (so
// Kamailio's dispatcher takes the node out of its pool); calls in progress may end by
// themselves during the configured drain grace; after it, answered calls get BYE and
// unanswered ones 503; then the listeners close and the user agent shuts down.
// Drain returns ctx's error if ctx ends before the last call did (the listeners are closed
// anyway). It is idempotent: later calls wait for the first and return its result.
func (s *Server) Drain(ctx context.Context) error {
	s.drainOnce.Do(func() {
		s.drainErr = s.drain(ctx)
		close(s.drained)
	})
	<-s.drained
	return s.drainErr
}

func (s *Server) drain(ctx context.Context) error {
	s.draining.Store(true)
	s.log.Info("sip service draining", "calls", s.limit.active.Load(), "grace", s.cfg.DrainGrace.String())
	tick := time.NewTicker(drainPoll)
	defer tick.Stop()
	grace := time.NewTimer(s.cfg.DrainGrace)
	defer grace.Stop()
	var err error
wait:
	for s.limit.active.Load() > 0 {
		select {
		case <-tick.C:
		case <-grace.C:
			break wait
		case <-ctx.Done():
			err = ctx.Err()
			break wait
		}
	}
	if n := s.limit.active.Load(); n > 0 {
		s.log.Info("drain grace over: hanging up calls", "calls", n)
		s.hangupAll(drainHangup())
		for err == nil && s.limit.active.Load() > 0 {
			select {
			case <-tick.C:
			case <-ctx.Done():
				err = ctx.Err()
			}
		}
	}
	s.hangupAll(drainHangup())
	s.closeListeners()
	s.ua.Close()
	s.log.Info("sip service stopped", "calls_left", s.limit.active.Load())
	return err
}
