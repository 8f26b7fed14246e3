package app

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/sidecar-voip/sidecar/dialplan"
)

// maxAnswerDelay bounds Answer's delay, in milliseconds.
const maxAnswerDelay = 10000

// parseAnswer parses Answer([delay]) into the delay in milliseconds; a templated argument
// (lit[0] false) is skipped. Run and Check both call it.
func parseAnswer(args []string, lit []bool) (int, error) {
	if len(args) == 1 && known(lit, 0) && strings.TrimSpace(args[0]) != "" {
		n, err := strconv.Atoi(strings.TrimSpace(args[0]))
		if err != nil || n < 0 || n > maxAnswerDelay {
			return 0, appErrorf("Answer", "delay %q: want milliseconds 0-%d", args[0], maxAnswerDelay)
		}
		return n, nil
	}
	return 0, nil
}

func checkAnswer(args []string, lit []bool) error {
	_, err := parseAnswer(args, lit)
	return err
}

// answer is Answer([delay]): answer the call (200 OK with SDP, waits for the ACK), then wait
// delay milliseconds (at most 10 s) so the first prompt is not clipped.
func (a *apps) answer(ctx context.Context, c *dialplan.Call, args []string) (dialplan.Result, error) {
	delay, err := parseAnswer(args, nil)
	if err != nil {
		return dialplan.Result{}, err
	}
	if err := c.Answer(ctx); err != nil {
		return dialplan.Result{}, appErrorf("Answer", "%w", err)
	}
	if delay > 0 {
		t := time.NewTimer(time.Duration(delay) * time.Millisecond)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return dialplan.Ended(), nil
		}
	}
	return dialplan.Next(), nil
}

// progress is Progress(): 183 Session Progress with SDP, so that the next media apps play
// early media before (or without) answer.
func (a *apps) progress(ctx context.Context, c *dialplan.Call, _ []string) (dialplan.Result, error) {
	if err := c.Progress(ctx, 183); err != nil {
		return dialplan.Result{}, appErrorf("Progress", "%w", err)
	}
	return dialplan.Next(), nil
}

// echo is Echo(): send the caller's audio (and DTMF) back until '#' or hangup. It answers an
// unanswered call that has no early media.
func (a *apps) echo(ctx context.Context, c *dialplan.Call, _ []string) (dialplan.Result, error) {
	m, err := audioOf(ctx, c, "Echo", true)
	if err != nil {
		return dialplan.Result{}, err
	}
	m.FlushDigits()
	if err := m.Echo(ctx); err != nil {
		if hungUp(ctx) {
			return dialplan.Ended(), nil
		}
		return dialplan.Result{}, appErrorf("Echo", "%w", err)
	}
	return dialplan.Next(), nil
}
