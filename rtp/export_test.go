package rtp

// EchoOn reports whether Echo is running on s, so that tests wait for it instead of sleeping
// (compiled only into this package's tests).
func EchoOn(s *Session) bool { return s.echo.Load() }

// Recording reports whether a Record runs on s, so that tests send audio once it listens.
func Recording(s *Session) bool { return s.rec.Load() != nil }
