package app

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/sidecar-voip/sidecar/dialplan"
	"github.com/sidecar-voip/sidecar/media"
)

// Bounds of SendDTMF's timing arguments, in milliseconds.
const (
	defaultDTMFGap      = 250
	defaultDTMFDuration = 100
	maxDTMFMillis       = 5000
)

// sendDTMFArgs are SendDTMF's parsed arguments.
type sendDTMFArgs struct {
	digits   string
	gap, dur time.Duration
}

// parseSendDTMF parses SendDTMF(digits[,gap[,duration]]): digits are 0-9, *, #, A-D (any
// case) and w; gap and duration are milliseconds 0-5000. Templated arguments (lit[i] false)
// are skipped. Run and Check both call it.
func parseSendDTMF(args []string, lit []bool) (sendDTMFArgs, error) {
	ms := func(i, def int) (time.Duration, error) {
		if i >= len(args) || !known(lit, i) || strings.TrimSpace(args[i]) == "" {
			return time.Duration(def) * time.Millisecond, nil
		}
		n, err := strconv.Atoi(strings.TrimSpace(args[i]))
		if err != nil || n < 0 || n > maxDTMFMillis {
			name := map[int]string{1: "gap", 2: "duration"}[i]
			return 0, appErrorf("SendDTMF", "%s %q: want milliseconds 0-%d", name, args[i], maxDTMFMillis)
		}
		return time.Duration(n) * time.Millisecond, nil
	}
	var s sendDTMFArgs
	if known(lit, 0) {
		s.digits = strings.TrimSpace(args[0])
		for _, d := range s.digits {
			if !media.IsDigit(d) && d != 'w' && d != 'W' {
				return s, appErrorf("SendDTMF", "%q in %q is not a DTMF digit (want 0-9, *, #, A-D or w)", d, s.digits)
			}
		}
	}
	var err error
	if s.gap, err = ms(1, defaultDTMFGap); err != nil {
		return s, err
	}
	if s.dur, err = ms(2, defaultDTMFDuration); err != nil {
		return s, err
	}
	return s, nil
}

func checkSendDTMF(args []string, lit []bool) error {
	_, err := parseSendDTMF(args, lit)
	return err
}

// sendDTMF is SendDTMF(digits[,gap[,duration]]): send digits as RFC 4733 telephone-events,
// duration ms each (default 100) with gap ms between them (default 250), as Asterisk's
// SendDTMF does. 'w' in digits waits 500 ms. The peer must have negotiated telephone-event.
func (a *apps) sendDTMF(ctx context.Context, c *dialplan.Call, args []string) (dialplan.Result, error) {
	sa, err := parseSendDTMF(args, nil)
	if err != nil {
		return dialplan.Result{}, err
	}
	gap, dur := sa.gap, sa.dur
	m, err := audioOf(ctx, c, "SendDTMF", true)
	if err != nil {
		return dialplan.Result{}, err
	}
	for i, d := range sa.digits {
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
