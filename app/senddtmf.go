package app

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/sidecar-voip/sidecar/dialplan"
)

// Bounds of SendDTMF's timing arguments, in milliseconds.
const (
	defaultDTMFGap      = 250
	defaultDTMFDuration = 100
	maxDTMFMillis       = 5000
)

// sendDTMF is SendDTMF(digits[,gap[,duration]]): send digits as RFC 4733 telephone-events,
// duration ms each (default 100) with gap ms between them (default 250), as Asterisk's
// SendDTMF does. 'w' in digits waits 500 ms. The peer must have negotiated telephone-event.
func (a *apps) sendDTMF(ctx context.Context, c *dialplan.Call, args []string) (dialplan.Result, error) {
	ms := func(i, def int) (time.Duration, error) {
		if i >= len(args) || strings.TrimSpace(args[i]) == "" {
			return time.Duration(def) * time.Millisecond, nil
		}
		n, err := strconv.Atoi(strings.TrimSpace(args[i]))
		if err != nil || n < 0 || n > maxDTMFMillis {
			return 0, appErrorf("SendDTMF", "argument %d %q: want milliseconds 0-%d", i+1, args[i], maxDTMFMillis)
		}
		return time.Duration(n) * time.Millisecond, nil
	}
	gap, err := ms(1, defaultDTMFGap)
	if err != nil {
		return dialplan.Result{}, err
	}
	dur, err := ms(2, defaultDTMFDuration)
	if err != nil {
		return dialplan.Result{}, err
	}
	m, err := audioOf(ctx, c, "SendDTMF", true)
	if err != nil {
		return dialplan.Result{}, err
	}
	for i, d := range strings.TrimSpace(args[0]) {
		if i > 0 || d == 'w' || d == 'W' {
			wait := gap
			if d == 'w' || d == 'W' {
				wait = 500 * time.Millisecond
			}
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return dialplan.Ended(), nil
			}
			if d == 'w' || d == 'W' {
				continue
			}
		}
		if err := m.SendDTMF(ctx, d, dur); err != nil {
			if hungUp(ctx) {
				return dialplan.Ended(), nil
			}
			return dialplan.Result{}, appErrorf("SendDTMF", "%q: %w", d, err)
		}
	}
	return dialplan.Next(), nil
}
