package rtp

// EchoOn reports whether Echo is running on s, so that tests wait for it instead of sleeping
// (compiled only into this package's tests).
func EchoOn(s *Session) bool { return s.echo.Load() }
