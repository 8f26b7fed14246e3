package app

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/sidecar-voip/sidecar/dialplan"
	"github.com/sidecar-voip/sidecar/media"
)

// Read limits and defaults.
const (
	// MaxReadDigits caps Read's maxdigits (Asterisk's limit too).
	MaxReadDigits = 255
	// DefaultReadTimeout is how long Read waits for a digit after the prompt.
	DefaultReadTimeout = 10 * time.Second
	maxReadTimeout     = 300 * time.Second
	maxReadAttempts    = 10
)

// readArgs are Read's parsed arguments.
type readArgs struct {
	variable  string
	prompts   []string
	maxDigits int
	noAnswer  bool
	attempts  int
	timeout   time.Duration
}

// parseReadArgs accepts Read(var[,prompt[&prompt...][,maxdigits[,timeout]]]) and Asterisk's
// Read(var[,prompt[,maxdigits[,options[,attempts[,timeout]]]]]): a fourth argument that is a
// number is the timeout, otherwise it is the options. Templated arguments (lit[i] false) are
// skipped, and a templated fourth argument of four skips both readings. Run and Check both
// call it.
func parseReadArgs(args []string, lit []bool) (readArgs, error) {
	r := readArgs{variable: strings.TrimSpace(args[0]), attempts: 1, timeout: DefaultReadTimeout}
	get := func(i int) string {
		if i < len(args) && known(lit, i) {
			return strings.TrimSpace(args[i])
		}
		return ""
	}
	if known(lit, 0) {
		if err := dialplan.CheckVarName(r.variable); err != nil {
			return r, appErrorf("Read", "%w", err)
		}
	}
	if p := get(1); p != "" {
		r.prompts = strings.Split(p, "&")
	}
	if s := get(2); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 || n > MaxReadDigits {
			return r, appErrorf("Read", "maxdigits %q: want 0-%d", s, MaxReadDigits)
		}
		r.maxDigits = n
	}
	opts, timeout := get(3), get(5)
	if len(args) == 4 {
		if _, err := strconv.ParseFloat(opts, 64); err == nil {
			opts, timeout = "", get(3)
		}
	}
	for _, o := range opts {
		switch o {
		case 'n':
			r.noAnswer = true
		case 's', 'i':
			// s (skip when unanswered) and i (indication tone prompts) are accepted and ignored.
		default:
			return r, appErrorf("Read", "unknown option %q in %q (want n, s or i)", o, opts)
		}
	}
	if s := get(4); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxReadAttempts {
			return r, appErrorf("Read", "attempts %q: want 1-%d", s, maxReadAttempts)
		}
		r.attempts = n
	}
	if timeout != "" {
		f, err := strconv.ParseFloat(timeout, 64)
		if err != nil || f < 0 || f > maxReadTimeout.Seconds() {
			return r, appErrorf("Read", "timeout %q: want seconds 0-%g", timeout, maxReadTimeout.Seconds())
		}
		if f > 0 {
			r.timeout = time.Duration(f * float64(time.Second))
		}
	}
	return r, nil
}

func checkRead(args []string, lit []bool) error {
	r, err := parseReadArgs(args, lit)
	if err != nil {
		return err
	}
	if len(r.prompts) > 0 {
		return checkPrompts("Read", args[1])
	}
	return nil
}

// read is Read: play the prompts (interrupted by the first digit), collect DTMF until '#',
// maxdigits, or timeout after the prompt, and store the digits in the variable. READSTATUS is
// OK (digits read, or '#' alone), TIMEOUT (no digit) or HANGUP.
func (a *apps) read(ctx context.Context, c *dialplan.Call, args []string) (dialplan.Result, error) {
	ra, err := parseReadArgs(args, nil)
	if err != nil {
		return dialplan.Result{}, err
	}
	if err := c.SetVar(ra.variable, ""); err != nil {
		return dialplan.Result{}, appErrorf("Read", "%w", err)
	}
	m, err := audioOf(ctx, c, "Read", !ra.noAnswer)
	if err != nil {
		return dialplan.Result{}, err
	}
	m.FlushDigits()
	var digits, status string
	for range ra.attempts {
		digits, status = a.collect(ctx, m, ra)
		if status != "TIMEOUT" {
			break
		}
	}
	if err := c.SetVar(ra.variable, digits); err != nil {
		return dialplan.Result{}, appErrorf("Read", "%w", err)
	}
	if err := c.SetVar("READSTATUS", status); err != nil {
		return dialplan.Result{}, appErrorf("Read", "%w", err)
	}
	if status == "HANGUP" {
		return dialplan.Ended(), nil
	}
	return dialplan.Next(), nil
}

// collect runs one attempt of Read.
func (a *apps) collect(ctx context.Context, m media.Audio, ra readArgs) (string, string) {
	pctx, stop := context.WithCancel(ctx)
	defer stop()
	promptDone := make(chan error, 1)
	playing := len(ra.prompts) > 0
	if playing {
		go func() { promptDone <- a.playFiles(pctx, m, ra.prompts) }()
	}
	halt := func() {
		if playing {
			stop()
			<-promptDone
			playing = false
		}
	}
	defer halt()
	timer := time.NewTimer(ra.timeout)
	defer timer.Stop()
	if playing {
		timer.Stop() // the timeout runs from the end of the prompt
	}
	var got []rune
	for {
		select {
		case <-promptDone:
			playing = false
			timer.Reset(ra.timeout)
		case d := <-m.Digits():
			halt()
			if d.Digit == '#' {
				return string(got), "OK"
			}
			got = append(got, d.Digit)
			if ra.maxDigits > 0 && len(got) >= ra.maxDigits || len(got) >= MaxReadDigits {
				return string(got), "OK"
			}
			timer.Reset(ra.timeout)
		case <-timer.C:
			if len(got) > 0 {
				return string(got), "OK"
			}
			return "", "TIMEOUT"
		case <-ctx.Done():
			return string(got), "HANGUP"
		}
	}
}
