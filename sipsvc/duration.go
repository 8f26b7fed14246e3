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
// disarms it. It logs through the call's logger as it is now: route adds attributes to
// c.log on the dialplan's goroutine, which the timer's goroutine must not read.
func (c *call) limitDuration(d time.Duration) (stop func() bool) {
	log := c.log
	t := time.AfterFunc(d, func() {
		defer c.s.recoverGo("max call duration")
		log.Warn("call reached the maximum duration: ending it", "max", d.String())
		c.cancel(ErrMaxDuration)
	})
	return t.Stop
}
