package dialplan

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/sidecar-voip/sidecar/internal/sipstatus"
)

// Q.850 cause values the dialplan names.
const (
	CauseUnallocated    = 1
	CauseNormalClearing = 16
	CauseUserBusy       = 17
	CauseCongestion     = 34
)

// parseCause parses a Q.850 cause value (1 to 127).
func parseCause(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 127 {
		return 0, fmt.Errorf("bad hangup cause %q: want a number from 1 to 127", s)
	}
	return n, nil
}

// ErrEnded is wrapped by the error of an application that ended an unanswered call on
// purpose (Hangup, Busy, Congestion, Transfer, the end of an extension): a *sipstatus.Error
// with the answer the SIP service sends. Plan.Run returns it without logging a failure.
var ErrEnded = errors.New("call ended by the dialplan")

// hangupCause ends the call with a cause: BYE when answered (nil error), else an error
// carrying the cause's SIP answer (sipstatus.FromCause).
func hangupCause(ctx context.Context, c *Call, cause int) error {
	_ = c.SetVar("HANGUPCAUSE", strconv.Itoa(cause))
	if c.Answered() {
		if err := c.Hangup(ctx); err != nil {
			return fmt.Errorf("hang up: %w", err)
		}
		return nil
	}
	return sipstatus.Newf(sipstatus.FromCause(cause), "%w: cause %d", ErrEnded, cause)
}
