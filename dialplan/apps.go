package dialplan

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/sidecar-voip/sidecar/internal/sipstatus"
)

// MaxWait bounds Wait, and Busy's and Congestion's wait after answer, in seconds.
const MaxWait = 3600

// DefaultToneWait is how long Busy and Congestion wait for the caller to hang up when the call
// is already answered, unless given a timeout.
const DefaultToneWait = 20

var varName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,63}$`)

// RegisterSignalling registers the applications that need no media: Hangup, Busy,
// Congestion, Ringing, Wait, Set, Goto, GotoIf, Transfer, NoOp and Log.
func RegisterSignalling(r *Registry) error {
	apps := []App{
		{Name: "Hangup", MaxArgs: 1, Run: runHangup, check: checkHangup},
		{Name: "Busy", MaxArgs: 1, Run: toneApp(CauseUserBusy), check: checkTimeout},
		{Name: "Congestion", MaxArgs: 1, Run: toneApp(CauseCongestion), check: checkTimeout},
		{Name: "Ringing", Run: runRinging},
		{Name: "Wait", MinArgs: 1, MaxArgs: 1, Run: runWait, check: checkWait},
		{Name: "Set", MinArgs: 2, MaxArgs: 2, Run: runSet, split: splitAssign, check: checkSet},
		{Name: "Goto", MinArgs: 1, MaxArgs: 3, Run: runGoto, check: checkGoto},
		{Name: "GotoIf", MinArgs: 7, MaxArgs: 7, Run: runGotoIf, split: splitGotoIf, check: checkGotoIf},
		{Name: "Transfer", MinArgs: 1, MaxArgs: 1, Run: runTransfer},
		{Name: "NoOp", MaxArgs: -1, Run: func(context.Context, *Call, []string) (Result, error) { return Next(), nil }},
		{Name: "Log", MinArgs: 2, MaxArgs: 2, Run: runLog, split: splitFirstComma, check: checkLog},
	}
	var errs []error
	for _, a := range apps {
		errs = append(errs, r.Register(a))
	}
	return errors.Join(errs...)
}

func runHangup(ctx context.Context, c *Call, args []string) (Result, error) {
	cause := CauseNormalClearing
	if len(args) == 1 && strings.TrimSpace(args[0]) != "" {
		n, err := parseCause(strings.TrimSpace(args[0]))
		if err != nil {
			c.Log.Warn("dialplan: Hangup: using cause 16", "error", err)
		} else {
			cause = n
		}
	}
	return Ended(), hangupCause(ctx, c, cause)
}

func checkHangup(_ *Plan, _ *extension, args []string, lit []bool) error {
	if len(args) == 1 && lit[0] && args[0] != "" {
		if _, err := parseCause(args[0]); err != nil {
			return appErrorf("Hangup", "%w", err)
		}
	}
	return nil
}

// toneApp is Busy and Congestion: unanswered, the cause's SIP answer (486, 503); answered,
// wait for the caller to hang up (at most the timeout), then BYE.
func toneApp(cause int) func(ctx context.Context, c *Call, args []string) (Result, error) {
	return func(ctx context.Context, c *Call, args []string) (Result, error) {
		if !c.Answered() {
			return Ended(), hangupCause(ctx, c, cause)
		}
		secs := float64(DefaultToneWait)
		if len(args) == 1 && strings.TrimSpace(args[0]) != "" {
			var err error
			if secs, err = parseSeconds(args[0]); err != nil {
				return Result{}, err
			}
		}
		if err := wait(ctx, secs); err != nil {
			return Result{}, err
		}
		return Ended(), hangupCause(ctx, c, cause)
	}
}

func checkTimeout(_ *Plan, _ *extension, args []string, lit []bool) error {
	if len(args) == 1 && lit[0] && args[0] != "" {
		if _, err := parseSeconds(args[0]); err != nil {
			return err
		}
	}
	return nil
}

func runRinging(ctx context.Context, c *Call, _ []string) (Result, error) {
	if err := c.Progress(ctx, 180); err != nil {
		return Result{}, fmt.Errorf("send 180: %w", err)
	}
	return Next(), nil
}

// parseSeconds parses a duration in seconds: a number from 0 to MaxWait, fractions allowed.
func parseSeconds(s string) (float64, error) {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsNaN(f) || f < 0 || f > MaxWait {
		return 0, fmt.Errorf("bad seconds %q: want a number from 0 to %d", s, MaxWait)
	}
	return f, nil
}

// wait waits secs seconds or until ctx is done.
func wait(ctx context.Context, secs float64) error {
	t := time.NewTimer(time.Duration(secs * float64(time.Second)))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func runWait(ctx context.Context, _ *Call, args []string) (Result, error) {
	secs, err := parseSeconds(args[0])
	if err != nil {
		return Result{}, appErrorf("Wait", "%w", err)
	}
	if err := wait(ctx, secs); err != nil {
		return Result{}, err
	}
	return Next(), nil
}

func checkWait(_ *Plan, _ *extension, args []string, lit []bool) error {
	if lit[0] {
		if _, err := parseSeconds(args[0]); err != nil {
			return appErrorf("Wait", "%w", err)
		}
	}
	return nil
}

func runSet(_ context.Context, c *Call, args []string) (Result, error) {
	if err := c.SetVar(strings.TrimSpace(args[0]), args[1]); err != nil {
		return Result{}, appErrorf("Set", "%w", err)
	}
	return Next(), nil
}

func checkSet(_ *Plan, _ *extension, args []string, lit []bool) error {
	if lit[0] && !varName.MatchString(args[0]) {
		return appErrorf("Set", "invalid variable name %q (want letters, digits and _, not starting with a digit)", args[0])
	}
	return nil
}

func runTransfer(ctx context.Context, c *Call, args []string) (Result, error) {
	target := strings.TrimSpace(args[0])
	if c.Answered() {
		return Result{}, appErrorf("Transfer", "the call is already answered")
	}
	if err := validSIPURI(target); err != nil {
		// As Asterisk: the transfer fails, TRANSFERSTATUS says so and the dialplan goes on.
		c.Log.Warn("dialplan: Transfer failed", "error", err)
		_ = c.SetVar("TRANSFERSTATUS", "FAILURE")
		return Next(), nil
	}
	_ = c.SetVar("TRANSFERSTATUS", "SUCCESS")
	return Ended(), sipstatus.Redirect(target, fmt.Errorf("%w: transfer", ErrEnded))
}

// validSIPURI checks that s is a sip: or sips: URI fit for a Contact header: a host, no
// spaces, controls, quotes or angle brackets, at most 1024 bytes.
func validSIPURI(s string) error {
	if s == "" {
		return errors.New("empty target URI")
	}
	if len(s) > 1024 {
		return errors.New("target URI longer than 1024 bytes")
	}
	lower := strings.ToLower(s)
	var rest string
	switch {
	case strings.HasPrefix(lower, "sip:"):
		rest = s[4:]
	case strings.HasPrefix(lower, "sips:"):
		rest = s[5:]
	default:
		return fmt.Errorf("target %q is not a sip: or sips: URI", s)
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c == 0x7f || c == '<' || c == '>' || c == '"' {
			return fmt.Errorf("target %q: character %q not allowed", s, c)
		}
	}
	if at := strings.LastIndexByte(rest, '@'); at >= 0 {
		rest = rest[at+1:]
	}
	host := rest
	if i := strings.IndexAny(host, ";?"); i >= 0 {
		host = host[:i]
	}
	if host == "" || strings.HasPrefix(host, ":") {
		return fmt.Errorf("target %q has no host", s)
	}
	return nil
}

var logLevels = map[string]slog.Level{
	"ERROR": slog.LevelError, "WARNING": slog.LevelWarn, "NOTICE": slog.LevelInfo,
	"VERBOSE": slog.LevelInfo, "DEBUG": slog.LevelDebug, "DTMF": slog.LevelDebug,
}

func runLog(ctx context.Context, c *Call, args []string) (Result, error) {
	level, ok := logLevels[strings.ToUpper(strings.TrimSpace(args[0]))]
	if !ok {
		level = slog.LevelInfo
	}
	c.Log.Log(ctx, level, args[1], "context", c.Context, "exten", c.Exten, "priority", c.Priority)
	return Next(), nil
}

func checkLog(_ *Plan, _ *extension, args []string, lit []bool) error {
	if _, ok := logLevels[strings.ToUpper(args[0])]; lit[0] && !ok {
		return appErrorf("Log", "unknown level %q (want ERROR, WARNING, NOTICE, VERBOSE, DEBUG or DTMF)", args[0])
	}
	return nil
}
