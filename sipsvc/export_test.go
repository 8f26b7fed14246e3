package sipsvc

import "time"

// SetMaxCallDuration shortens the maximum call duration (maxCallDuration) of s, so the
// external tests can exercise the guard's wiring in a running service.
func SetMaxCallDuration(s *Server, d time.Duration) { s.maxDuration.Store(int64(d)) }

// SweepMWI ends the MWI subscriptions expired at now, as the service's periodic sweep does.
func (s *Server) SweepMWI(now time.Time) { s.mwi.sweep(now) }

// TryingWaiting returns the INVITE transactions waiting in the 100 Trying queue (each
// stays there tryingAfter, answered or not), so a heap measurement can wait for it to empty.
func TryingWaiting(s *Server) int {
	s.trying.mu.Lock()
	defer s.trying.mu.Unlock()
	return len(s.trying.q) - s.trying.head
}
