package sipsvc

import "time"

// SetMaxCallDuration shortens the maximum call duration (maxCallDuration) of s, so the
// external tests can exercise the guard's wiring in a running service.
func SetMaxCallDuration(s *Server, d time.Duration) { s.maxDuration.Store(int64(d)) }

// SweepMWI ends the MWI subscriptions expired at now, as the service's periodic sweep does.
func (s *Server) SweepMWI(now time.Time) { s.mwi.sweep(now) }
