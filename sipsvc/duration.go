package sipsvc

import (
	"errors"
	"time"
)

// maxCallDuration bounds every call, from its INVITE to its end: a call still up after it
// (a stuck dialplan, a caller whose BYE was lost while media keeps flowing) is ended: BYE
// when answered, 500 when not. docs/sip-service.md documents it; it is a constant, not a
// setting.
const maxCallDuration = 4 * time.Hour

// ErrMaxDuration is the cause of a call's context when it reached the maximum call duration.
var ErrMaxDuration = errors.New("call reached its maximum duration")

// limitDuration ends the call with ErrMaxDuration once d has passed; the returned stop
// disarms it.
func (c *call) limitDuration(d time.Duration) (stop func() bool) {
	t := time.AfterFunc(d, func() {
		defer c.s.recoverGo("max call duration")
		c.logger().Warn("call reached the maximum duration: ending it", "max", d.String())
		c.cancel(ErrMaxDuration)
	})
	return t.Stop
}
