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
		{Name: "Hangup", MaxArgs: 1, Run: runHangup, Check: checkHangup},
		{Name: "Busy", MaxArgs: 1, Run: toneApp("Busy", CauseUserBusy), Check: checkToneWait("Busy")},
		{Name: "Congestion", MaxArgs: 1, Run: toneApp("Congestion", CauseCongestion), Check: checkToneWait("Congestion")},
		{Name: "Ringing", Run: runRinging},
		{Name: "Wait", MinArgs: 1, MaxArgs: 1, Run: runWait, Check: checkWait},
		{Name: "Set", MinArgs: 2, MaxArgs: 2, Run: runSet, Check: checkSet, split: splitAssign},
		{Name: "Goto", MinArgs: 1, MaxArgs: 3, Run: runGoto, checkPlan: checkGoto},
		{Name: "GotoIf", MinArgs: 7, MaxArgs: 7, Run: runGotoIf, split: splitGotoIf, checkPlan: checkGotoIf},
		{Name: "Transfer", MinArgs: 1, MaxArgs: 1, Run: runTransfer, Check: checkTransfer},
		{Name: "NoOp", MaxArgs: -1, Run: func(context.Context, *Call, []string) (Result, error) { return Next(), nil }},
		{Name: "Log", MinArgs: 2, MaxArgs: 2, Run: runLog, Check: checkLog, split: splitFirstComma},
	}
	var errs []error
	for _, a := range apps {
		errs = append(errs, r.Register(a))
	}
	return errors.Join(errs...)
}

// known reports whether argument i has its final text: always at run time (lit nil), at load
// time when it has no template action.
func known(lit []bool, i int) bool { return lit == nil || i < len(lit) && lit[i] }

// parseHangup parses Hangup([cause]); templated arguments (lit[i] false) are skipped.
func parseHangup(args []string, lit []bool) (int, error) {
	if len(args) == 1 && known(lit, 0) && strings.TrimSpace(args[0]) != "" {
		n, err := parseCause(strings.TrimSpace(args[0]))
		if err != nil {
			return CauseNormalClearing, appErrorf("Hangup", "%w", err)
		}
		return n, nil
	}
	return CauseNormalClearing, nil
}

func runHangup(ctx context.Context, c *Call, args []string) (Result, error) {
	cause, err := parseHangup(args, nil)
	if err != nil {
		c.Log.Warn("dialplan: Hangup: using cause 16", "error", err)
	}
	return Ended(), hangupCause(ctx, c, cause)
}

func checkHangup(args []string, lit []bool) error {
	_, err := parseHangup(args, lit)
	return err
}

// toneApp is Busy and Congestion: unanswered, the cause's SIP answer (486, 503); answered,
// wait for the caller to hang up (at most the timeout), then BYE.
func toneApp(app string, cause int) func(ctx context.Context, c *Call, args []string) (Result, error) {
	return func(ctx context.Context, c *Call, args []string) (Result, error) {
		if !c.Answered() {
			return Ended(), hangupCause(ctx, c, cause)
		}
		secs, err := parseToneWait(app, args, nil)
		if err != nil {
			return Result{}, err
		}
		if err := wait(ctx, secs); err != nil {
			return Result{}, err
		}
		return Ended(), hangupCause(ctx, c, cause)
	}
}

// parseToneWait parses Busy's and Congestion's [timeout] (seconds, DefaultToneWait when
// empty); a templated argument (lit[0] false) is skipped.
func parseToneWait(app string, args []string, lit []bool) (float64, error) {
	if len(args) == 1 && known(lit, 0) && strings.TrimSpace(args[0]) != "" {
		secs, err := parseSeconds(args[0])
		if err != nil {
			return 0, appErrorf(app, "%w", err)
		}
		return secs, nil
	}
	return DefaultToneWait, nil
}

func checkToneWait(app string) func(args []string, lit []bool) error {
	return func(args []string, lit []bool) error {
		_, err := parseToneWait(app, args, lit)
		return err
	}
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

// parseWait parses Wait(seconds); a templated argument (lit[0] false) is skipped.
func parseWait(args []string, lit []bool) (float64, error) {
	if !known(lit, 0) {
		return 0, nil
	}
	secs, err := parseSeconds(args[0])
	if err != nil {
		return 0, appErrorf("Wait", "%w", err)
	}
	return secs, nil
}

func runWait(ctx context.Context, _ *Call, args []string) (Result, error) {
	secs, err := parseWait(args, nil)
	if err != nil {
		return Result{}, err
	}
	if err := wait(ctx, secs); err != nil {
		return Result{}, err
	}
	return Next(), nil
}

func checkWait(args []string, lit []bool) error {
	_, err := parseWait(args, lit)
	return err
}

func runSet(_ context.Context, c *Call, args []string) (Result, error) {
	if err := c.SetVar(strings.TrimSpace(args[0]), args[1]); err != nil {
		return Result{}, appErrorf("Set", "%w", err)
	}
	return Next(), nil
}

// CheckVarName reports whether name can be a channel variable: letters, digits and _, not
// starting with a digit, at most 64 bytes. Call.SetVar refuses other names; apps that store
// into a variable named by an argument (Set, Read) check it at load with this.
func CheckVarName(name string) error {
	if !varName.MatchString(name) {
		return fmt.Errorf("invalid variable name %q (want letters, digits and _, not starting with a digit)", name)
	}
	return nil
}

func checkSet(args []string, lit []bool) error {
	if known(lit, 0) {
		if err := CheckVarName(strings.TrimSpace(args[0])); err != nil {
			return appErrorf("Set", "%w", err)
		}
	}
	return nil
}

// checkTransfer rejects a literal target that is not a SIP URI: at run time the transfer
// would always fail.
func checkTransfer(args []string, lit []bool) error {
	if known(lit, 0) {
		if err := validSIPURI(strings.TrimSpace(args[0])); err != nil {
			return appErrorf("Transfer", "%w", err)
		}
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

// parseLogLevel parses Log's level; a templated level (lit[0] false) is skipped.
func parseLogLevel(args []string, lit []bool) (slog.Level, error) {
	if !known(lit, 0) {
		return slog.LevelInfo, nil
	}
	level, ok := logLevels[strings.ToUpper(strings.TrimSpace(args[0]))]
	if !ok {
		return slog.LevelInfo, appErrorf("Log", "unknown level %q (want ERROR, WARNING, NOTICE, VERBOSE, DEBUG or DTMF)", args[0])
	}
	return level, nil
}

func runLog(ctx context.Context, c *Call, args []string) (Result, error) {
	level, _ := parseLogLevel(args, nil) // a templated level that expands to no level logs at INFO
	c.Log.Log(ctx, level, args[1], "context", c.Context, "exten", c.Exten, "priority", c.Priority)
	return Next(), nil
}

func checkLog(args []string, lit []bool) error {
	_, err := parseLogLevel(args, lit)
	return err
}
