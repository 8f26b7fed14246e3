package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sidecar-voip/sidecar/app/wav"
	"github.com/sidecar-voip/sidecar/dialplan"
	"github.com/sidecar-voip/sidecar/internal/sipstatus"
	"github.com/sidecar-voip/sidecar/media"
	"github.com/sidecar-voip/sidecar/metrics"
	"github.com/sidecar-voip/sidecar/profile"
	"github.com/sidecar-voip/sidecar/request"
	"github.com/sidecar-voip/sidecar/voicemail"
)

// VoicemailOptions are the settings of VoiceMail and VoiceMailMain ([voicemail] in
// sidecar.ini).
type VoicemailOptions struct {
	// Limits are the deposit limits; a callee profile's mailbox-maxmsg, mailbox-maxsecs and
	// mailbox-minsecs override them for its mailbox.
	Limits voicemail.Limits
	// SilenceThreshold is the mean absolute amplitude under which a frame is silence.
	SilenceThreshold int
	// MaxLoginAttempts is how many wrong PINs one call may enter, and how many in a row lock
	// the mailbox.
	MaxLoginAttempts int
	// Lockout is how long a locked mailbox refuses logins; 0 disables the lockout.
	Lockout time.Duration
	// FailDelay is the pause before VoiceMailMain hangs up after the last wrong PIN.
	FailDelay time.Duration
	// KeyTimeout is how long VoiceMailMain waits for a key (or a PIN digit) after a prompt.
	KeyTimeout time.Duration
	// Unavailable is what VoiceMail does when the mailbox store cannot be reached
	// (voicemail.ErrUnavailable: the shared database is down): UnavailablePrompt or
	// Unavailable503. VoiceMailMain always says so and hangs up.
	Unavailable VoicemailFallback
}

// VoicemailFallback is VoiceMail's answer while the mailbox store is unavailable.
type VoicemailFallback int

const (
	// UnavailablePrompt answers, plays vm-unavailable ("the mailbox is not available") and
	// hangs up, with VMSTATUS FAILED. The default: with a shared store every sidecar of the
	// pool is in the same outage, so a failover finds the same answer, and a caller hears
	// why instead of a bare failure.
	UnavailablePrompt VoicemailFallback = iota
	// Unavailable503 refuses the unanswered call with 503 "Voicemail Unavailable" and no
	// Retry-After (Kamailio's failure_route may take its next action without marking the
	// sidecar down); a call already answered gets the prompt.
	Unavailable503
)

// String is the [voicemail] unavailable value.
func (f VoicemailFallback) String() string {
	if f == Unavailable503 {
		return "503"
	}
	return "prompt"
}

// DefaultVoicemailOptions are Asterisk's defaults: voicemail.DefaultLimits, threshold 128, 3
// login attempts; a lockout of 5 minutes, a 2 s delay and a 5 s key timeout; the prompt when
// the store is unavailable.
func DefaultVoicemailOptions() VoicemailOptions {
	return VoicemailOptions{
		Limits:           voicemail.DefaultLimits(),
		SilenceThreshold: 128,
		MaxLoginAttempts: 3,
		Lockout:          5 * time.Minute,
		FailDelay:        2 * time.Second,
		KeyTimeout:       5 * time.Second,
	}
}

// VoicemailStats counts what VoiceMail and VoiceMailMain did, for metrics. Every field is safe
// for concurrent use.
type VoicemailStats struct {
	// Deposits counts messages stored; TooShort, MailboxFull, DiskFull and Failed the deposits
	// that stored nothing for each reason (Failed: any other store or media error).
	Deposits, TooShort, MailboxFull, DiskFull, Failed atomic.Uint64
	// Logins counts successful VoiceMailMain logins, LoginFailures wrong PINs, Lockouts the
	// mailboxes locked, LockedRefusals the logins refused during a lockout.
	Logins, LoginFailures, Lockouts, LockedRefusals atomic.Uint64
	// Unavailable counts the calls of either application answered with the fallback because
	// the mailbox store could not be reached (the store counts its failed operations too).
	Unavailable atomic.Uint64
}

// Snapshot returns the counters now, for metrics.Metrics.WatchVoicemail.
func (s *VoicemailStats) Snapshot() metrics.Voicemail {
	return metrics.Voicemail{
		Deposits: s.Deposits.Load(), TooShort: s.TooShort.Load(), MailboxFull: s.MailboxFull.Load(),
		DiskFull: s.DiskFull.Load(), Unavailable: s.Unavailable.Load(), Failed: s.Failed.Load(),
		Logins: s.Logins.Load(), LoginFailures: s.LoginFailures.Load(),
		LockedRefusals: s.LockedRefusals.Load(), Lockouts: s.Lockouts.Load(),
	}
}

// vm is the voicemail state shared by the two applications.
type vm struct {
	store voicemail.Store
	opts  VoicemailOptions
	stats *VoicemailStats
	locks *lockout
}

// errNoStore reports a sidecar loaded without a mailbox store (check, render, tests).
var errNoStore = errors.New("no voicemail store configured")

// unavailable ends a call whose mailbox store cannot be reached (voicemail.ErrUnavailable):
// with allow503 (VoiceMail), the fallback Unavailable503 and the call still unanswered, the
// error carrying 503 "Voicemail Unavailable" without Retry-After; else answered if need be,
// vm-unavailable played and a hangup. Never a wait on the store: the caller hears at once.
// Counted; logged at debug level only, as the store logs its outage once, not per call.
func (a *apps) unavailable(ctx context.Context, c *dialplan.Call, app, mailbox string, cause error, allow503 bool) (dialplan.Result, error) {
	a.vm.stats.Unavailable.Add(1)
	c.Log.Debug(app+": mailbox store unavailable", "mailbox", mailbox, "fallback", a.vm.opts.Unavailable, "error", cause)
	if allow503 && a.vm.opts.Unavailable == Unavailable503 && !c.Answered() {
		return dialplan.Ended(), sipstatus.WithReason(503, "Voicemail Unavailable",
			fmt.Errorf("%w: %s: %w", dialplan.ErrEnded, app, cause))
	}
	if hungUp(ctx) {
		return dialplan.Ended(), nil
	}
	m, err := audioOf(ctx, c, app, true)
	if err != nil {
		return dialplan.Result{}, err
	}
	if rate := m.SampleRate(); rate > 0 {
		if _, err := playInterruptible(ctx, m, a.clips(rate, "vm-unavailable"), nil); err != nil && hungUp(ctx) {
			return dialplan.Ended(), nil
		}
	}
	if err := c.Hangup(ctx); err != nil && !hungUp(ctx) {
		c.Log.Warn(app+": hangup failed", "error", err)
	}
	return dialplan.Ended(), nil
}

// limitsFor applies a profile's per-mailbox overrides to the settings' limits.
func (v *vm) limitsFor(p *profile.Profile) voicemail.Limits {
	l := v.opts.Limits
	if p == nil {
		return l
	}
	if p.MailboxMaxMsg != nil {
		l.MaxMessages = *p.MailboxMaxMsg
	}
	if p.MailboxMaxDuration != nil {
		l.MaxDuration = *p.MailboxMaxDuration
	}
	if p.MailboxMinDuration != nil {
		l.MinDuration = *p.MailboxMinDuration
	}
	if l.MaxDuration > 0 && l.MinDuration > l.MaxDuration {
		l.MinDuration = l.MaxDuration
	}
	return l
}

// profileOf returns the profile of the call's party that owns mailbox (the callee's first,
// the mailbox a deposit is for), or nil.
func profileOf(c *dialplan.Call, mailbox string, callerFirst bool) *profile.Profile {
	parties := []*profile.Profile{c.Callee(), c.Caller()}
	if callerFirst {
		parties[0], parties[1] = parties[1], parties[0]
	}
	for _, p := range parties {
		if p != nil && p.MailboxID != "" && p.MailboxID == mailbox {
			return p
		}
	}
	return nil
}

// clip is one prompt or message, decoded at the session's rate.
type clip []int16

// clips loads prompts by name; a missing one is logged and skipped.
func (a *apps) clips(rate int, names ...string) []clip {
	out := make([]clip, 0, len(names))
	for _, n := range names {
		pcm, err := a.load(n, rate)
		if err != nil {
			a.log.Warn("prompt not played", "sound", n, "error", err)
			continue
		}
		out = append(out, pcm)
	}
	return out
}

// readAudio decodes a stored WAV (message or greeting) at rate.
func readAudio(f voicemail.Audio, rate int) (clip, error) {
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, 2*int64(wav.MaxSamples)+4096))
	if err != nil {
		return nil, fmt.Errorf("read recording: %w", err)
	}
	pcm, r, err := wav.Decode(b)
	if err != nil {
		return nil, fmt.Errorf("read recording: %w", err)
	}
	return wav.Resample(pcm, r, rate), nil
}

// playInterruptible plays clips in turn until they end or a digit for which stop returns true
// arrives (barge-in, as Asterisk's ecodes); other digits are ignored. It returns that digit,
// or 0 when the clips played out. Errors are the call's end or the media's.
func playInterruptible(ctx context.Context, m media.Audio, clips []clip, stop func(rune) bool) (rune, error) {
	if len(clips) == 0 {
		return 0, nil
	}
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		for _, c := range clips {
			if err := m.Play(pctx, &pcmSource{c}); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	for {
		select {
		case err := <-done:
			if ctx.Err() != nil {
				return 0, ctx.Err()
			}
			return 0, err
		case d := <-m.Digits():
			if stop == nil || stop(d.Digit) {
				cancel()
				<-done
				return d.Digit, nil
			}
		case <-ctx.Done():
			<-done
			return 0, ctx.Err()
		}
	}
}

// anyDigit stops a playback on every digit.
func anyDigit(rune) bool { return true }

// waitDigit waits up to d for a digit; 0 on timeout.
func waitDigit(ctx context.Context, m media.Audio, d time.Duration) (rune, error) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case dg := <-m.Digits():
		return dg.Digit, nil
	case <-t.C:
		return 0, nil
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// callerID returns the caller's number and name for a message envelope: the
// P-Asserted-Identity when the request has one, else the From header.
func callerID(req *request.Request) (number, name string) {
	if req == nil {
		return "", ""
	}
	if pai := req.Header("P-Asserted-Identity"); pai != "" {
		if num, disp := parseNameAddr(pai); num != "" {
			return num, disp
		}
	}
	return req.From.User, req.From.Display
}

// parseNameAddr extracts the user part and the display name of a name-addr or addr-spec
// header value ("Alice" <sip:1001@host>, <tel:+4930123>, sip:1001@host;user=phone); only the
// first value of a comma-separated list.
func parseNameAddr(v string) (user, display string) {
	v = strings.TrimSpace(v)
	if lt := strings.IndexByte(v, '<'); lt >= 0 {
		display = strings.Trim(strings.TrimSpace(v[:lt]), `"`)
		v = v[lt+1:]
		if gt := strings.IndexByte(v, '>'); gt >= 0 {
			v = v[:gt]
		}
	} else if c := strings.IndexByte(v, ','); c >= 0 {
		v = v[:c]
	}
	for _, scheme := range []string{"sips:", "sip:", "tel:"} {
		if len(v) >= len(scheme) && strings.EqualFold(v[:len(scheme)], scheme) {
			v = v[len(scheme):]
			break
		}
	}
	if i := strings.IndexAny(v, "@;?>"); i >= 0 {
		v = v[:i]
	}
	const maxLen = 80
	if len(v) > maxLen {
		v = v[:maxLen]
	}
	if len(display) > maxLen {
		display = display[:maxLen]
	}
	return v, display
}

// diversionBusy reports whether the request's Diversion header (RFC 5806; Kamailio's
// route[TOVOICEMAIL] adds it) gives the reason user-busy. Any other reason (no-answer,
// unavailable, unconditional, ...) or none means unavailable.
func diversionBusy(req *request.Request) bool {
	if req == nil {
		return false
	}
	hs := req.Headers("Diversion")
	if len(hs) == 0 {
		return false
	}
	// The first (most recent) diversion decides.
	for _, p := range strings.Split(hs[0], ";")[1:] {
		k, val, _ := strings.Cut(strings.TrimSpace(p), "=")
		if strings.EqualFold(strings.TrimSpace(k), "reason") {
			return strings.EqualFold(strings.Trim(strings.TrimSpace(val), `"`), "user-busy")
		}
	}
	return false
}

// lockout counts wrong PINs per mailbox and locks a mailbox for a while after too many in a
// row. It is in memory, per process, and bounded: at most maxLockEntries mailboxes are
// tracked; expired entries go first, then the oldest.
type lockout struct {
	mu   sync.Mutex
	max  int
	dur  time.Duration
	now  func() time.Time
	byMb map[string]*lockEntry
}

type lockEntry struct {
	fails       int
	until, seen time.Time
}

// maxLockEntries bounds the lockout table.
const maxLockEntries = 10000

func newLockout(max int, dur time.Duration) *lockout {
	return &lockout{max: max, dur: dur, now: time.Now, byMb: make(map[string]*lockEntry)}
}

// locked reports whether mailbox is locked now.
func (l *lockout) locked(mailbox string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.byMb[mailbox]
	return e != nil && l.now().Before(e.until)
}

// fail records a wrong PIN; it returns true when this one locked the mailbox.
func (l *lockout) fail(mailbox string) bool {
	if l.dur <= 0 {
		return false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	e := l.byMb[mailbox]
	if e == nil {
		l.evict(now)
		e = &lockEntry{}
		l.byMb[mailbox] = e
	}
	if !e.until.IsZero() && !now.Before(e.until) {
		e.fails, e.until = 0, time.Time{} // the last lockout is over: count afresh
	}
	e.fails++
	e.seen = now
	if e.fails >= l.max && e.until.IsZero() {
		e.until = now.Add(l.dur)
		return true
	}
	return false
}

// ok forgets a mailbox's wrong PINs after a successful login.
func (l *lockout) ok(mailbox string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.byMb, mailbox)
}

// evict makes room for one entry: expired ones go, then the least recently seen.
func (l *lockout) evict(now time.Time) {
	if len(l.byMb) < maxLockEntries {
		return
	}
	var oldest string
	for k, e := range l.byMb {
		if e.until.IsZero() && now.Sub(e.seen) > l.dur || !e.until.IsZero() && !now.Before(e.until) {
			delete(l.byMb, k)
			continue
		}
		if oldest == "" || e.seen.Before(l.byMb[oldest].seen) {
			oldest = k
		}
	}
	if len(l.byMb) >= maxLockEntries && oldest != "" {
		delete(l.byMb, oldest)
	}
}
