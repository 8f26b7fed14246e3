package app

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/sidecar-voip/sidecar/app/wav"
	"github.com/sidecar-voip/sidecar/dialplan"
	"github.com/sidecar-voip/sidecar/media"
	"github.com/sidecar-voip/sidecar/voicemail"
)

// voiceMailArgs are VoiceMail's parsed arguments.
type voiceMailArgs struct {
	mailbox                     string
	busy, unavail, skip, urgent bool
}

// parseVoiceMail parses VoiceMail(mailbox[,flags]); templated arguments (lit[i] false) are
// skipped. Run and Check both call it. One mailbox only (Asterisk's "a&b" lists are refused).
func parseVoiceMail(args []string, lit []bool) (voiceMailArgs, error) {
	var v voiceMailArgs
	if known(lit, 0) {
		v.mailbox = strings.TrimSpace(args[0])
		switch {
		case v.mailbox == "" && lit != nil:
			return v, appErrorf("VoiceMail", "empty mailbox")
		case strings.Contains(v.mailbox, "&"):
			return v, appErrorf("VoiceMail", "%q: one mailbox only", v.mailbox)
		case v.mailbox != "" && !voicemail.ValidMailbox(v.mailbox):
			return v, appErrorf("VoiceMail", "%w %q", voicemail.ErrMailbox, v.mailbox)
		}
	}
	if len(args) > 1 && known(lit, 1) {
		for _, f := range strings.TrimSpace(args[1]) {
			switch f {
			case 'b':
				v.busy = true
			case 'u':
				v.unavail = true
			case 's':
				v.skip = true
			case 'U':
				v.urgent = true
			default:
				return v, appErrorf("VoiceMail", "unknown option %q in %q (want b, u, s or U)", f, args[1])
			}
		}
		if v.busy && v.unavail {
			return v, appErrorf("VoiceMail", "options b and u exclude each other")
		}
	}
	return v, nil
}

func checkVoiceMail(args []string, lit []bool) error {
	_, err := parseVoiceMail(args, lit)
	return err
}

// VMSTATUS values.
const (
	vmSuccess  = "SUCCESS"
	vmUserExit = "USEREXIT"
	vmFailed   = "FAILED"
)

// voiceMail is VoiceMail(mailbox[,flags]): the mailbox's greeting, the instructions, a beep,
// then a message recorded into the mailbox until '#', silence or maxsecs (a hangup keeps what
// was said). '0' or '*' during the greeting jump to extension "o" or "a" of the current
// context when it exists (VMSTATUS USEREXIT); '0' while recording keeps the message and jumps
// to "o". VMSTATUS is SUCCESS (a message stored), USEREXIT or FAILED (nothing stored: mailbox
// full, too short, no store). A full disk ends the call. A mailbox store that cannot be
// reached (a shared database down) gets [voicemail] unavailable: 503 before the answer, or
// vm-unavailable and a hangup; never a wait.
func (a *apps) voiceMail(ctx context.Context, c *dialplan.Call, args []string) (dialplan.Result, error) {
	va, err := parseVoiceMail(args, nil)
	if err != nil {
		return dialplan.Result{}, err
	}
	status := func(s string) (dialplan.Result, error) {
		if err := c.SetVar("VMSTATUS", s); err != nil {
			return dialplan.Result{}, appErrorf("VoiceMail", "%w", err)
		}
		return dialplan.Next(), nil
	}
	if va.mailbox == "" || !voicemail.ValidMailbox(va.mailbox) {
		c.Log.Warn("VoiceMail: no valid mailbox", "mailbox", va.mailbox)
		return status(vmFailed)
	}
	if a.vm.store == nil {
		c.Log.Error("VoiceMail failed", "mailbox", va.mailbox, "error", errNoStore)
		a.vm.stats.Failed.Add(1)
		return status(vmFailed)
	}
	// The store is asked before the call is answered: unreachable, the call gets the
	// fallback of [voicemail] unavailable while it can still be refused.
	n, cerr := a.vm.store.Count(ctx, va.mailbox, voicemail.Inbox)
	if errors.Is(cerr, voicemail.ErrUnavailable) {
		c.SetVar("VMSTATUS", vmFailed)
		return a.unavailable(ctx, c, "VoiceMail", va.mailbox, cerr, true)
	}
	m, err := audioOf(ctx, c, "VoiceMail", true)
	if err != nil {
		return dialplan.Result{}, err
	}
	rate := m.SampleRate()
	if rate == 0 {
		return dialplan.Result{}, appErrorf("VoiceMail", "%w", media.ErrNoEncoder)
	}
	m.FlushDigits()
	limits := a.vm.limitsFor(profileOf(c, va.mailbox, false))

	// A full mailbox is known before the greeting (Asterisk checks it first too).
	if cerr == nil && n >= limits.MaxMessages {
		a.vm.stats.MailboxFull.Add(1)
		c.Log.Info("VoiceMail: mailbox full", "mailbox", va.mailbox, "messages", n)
		if _, err := playInterruptible(ctx, m, a.clips(rate, "vm-mailboxfull"), nil); err != nil && hungUp(ctx) {
			return dialplan.Ended(), nil
		}
		return status(vmFailed)
	}

	// The greeting, then the instructions: '#' skips to the beep, '0' and '*' leave.
	busy := va.busy || !va.unavail && diversionBusy(c.Request())
	exits := func(d rune) bool {
		return d == '#' || d == '0' && c.HasExtension("o") || d == '*' && c.HasExtension("a")
	}
	d, err := playInterruptible(ctx, m, a.greeting(ctx, c, va.mailbox, busy, rate), exits)
	if err == nil && d == 0 && !va.skip {
		d, err = playInterruptible(ctx, m, a.clips(rate, "vm-intro"), exits)
	}
	if err != nil {
		if hungUp(ctx) {
			return dialplan.Ended(), nil
		}
		return dialplan.Result{}, appErrorf("VoiceMail", "%w", err)
	}
	switch d {
	case '0':
		c.SetVar("VMSTATUS", vmUserExit)
		return dialplan.GoTo(dialplan.Target{Exten: "o", Priority: "1"}), nil
	case '*':
		c.SetVar("VMSTATUS", vmUserExit)
		return dialplan.GoTo(dialplan.Target{Exten: "a", Priority: "1"}), nil
	}
	if _, err := playInterruptible(ctx, m, a.clips(rate, "beep"), nil); err != nil && hungUp(ctx) {
		return dialplan.Ended(), nil
	}

	num, name := callerID(c.Request())
	env := voicemail.Envelope{CallerID: num, CallerName: name, Urgent: va.urgent, Codec: m.Codec()}
	rec, err := a.vm.store.Deposit(context.WithoutCancel(ctx), va.mailbox, env, limits)
	if err != nil {
		return a.depositFailed(ctx, c, m, va.mailbox, err, status)
	}
	defer rec.Discard()
	end, err := a.record(ctx, c, m, rec, limits.MaxSilence, c.HasExtension("o"))
	if err != nil && !errors.Is(err, voicemail.ErrMaxDuration) {
		return a.depositFailed(ctx, c, m, va.mailbox, err, status)
	}
	msg, err := rec.Commit()
	if err != nil {
		return a.depositFailed(ctx, c, m, va.mailbox, err, status)
	}
	a.vm.stats.Deposits.Add(1)
	c.Log.Info("VoiceMail: message stored", "mailbox", va.mailbox, "id", msg.ID, "folder", msg.Folder,
		"duration", msg.Duration.Round(10*time.Millisecond), "end", end)
	if end == endOperator {
		c.SetVar("VMSTATUS", vmUserExit)
		return dialplan.GoTo(dialplan.Target{Exten: "o", Priority: "1"}), nil
	}
	if hungUp(ctx) {
		c.SetVar("VMSTATUS", vmSuccess)
		return dialplan.Ended(), nil
	}
	return status(vmSuccess)
}

// depositFailed handles a deposit that stored nothing: counted, logged, a prompt when the
// mailbox is full; a full disk ends the call.
func (a *apps) depositFailed(ctx context.Context, c *dialplan.Call, m media.Audio, mailbox string, err error,
	status func(string) (dialplan.Result, error)) (dialplan.Result, error) {
	rate := m.SampleRate()
	switch {
	case errors.Is(err, voicemail.ErrTooShort):
		a.vm.stats.TooShort.Add(1)
		c.Log.Info("VoiceMail: message too short, discarded", "mailbox", mailbox)
	case errors.Is(err, voicemail.ErrMailboxFull):
		a.vm.stats.MailboxFull.Add(1)
		c.Log.Info("VoiceMail: mailbox full", "mailbox", mailbox)
		if !hungUp(ctx) {
			playInterruptible(ctx, m, a.clips(rate, "vm-mailboxfull"), nil)
		}
	case errors.Is(err, voicemail.ErrDiskFull):
		a.vm.stats.DiskFull.Add(1)
		c.Log.Error("VoiceMail: voicemail store full, message dropped", "mailbox", mailbox, "error", err)
		c.SetVar("VMSTATUS", vmFailed)
		if !hungUp(ctx) {
			playInterruptible(ctx, m, a.clips(rate, "vm-goodbye"), nil)
			if herr := c.Hangup(ctx); herr != nil {
				c.Log.Warn("VoiceMail: hangup failed", "error", herr)
			}
		}
		return dialplan.Ended(), nil
	case errors.Is(err, voicemail.ErrUnavailable):
		// The store went away after the greeting: what was recorded is lost (a deposit
		// commits whole or not at all). The caller is told so; the outage is logged once by
		// the store, the lost message here.
		a.vm.stats.Failed.Add(1)
		c.Log.Warn("VoiceMail: mailbox store unavailable, message not stored", "mailbox", mailbox)
		c.SetVar("VMSTATUS", vmFailed)
		return a.unavailable(ctx, c, "VoiceMail", mailbox, err, false)
	case hungUp(ctx):
		a.vm.stats.Failed.Add(1)
		return dialplan.Ended(), nil
	default:
		a.vm.stats.Failed.Add(1)
		c.Log.Error("VoiceMail failed", "mailbox", mailbox, "error", err)
	}
	if hungUp(ctx) {
		c.SetVar("VMSTATUS", vmFailed)
		return dialplan.Ended(), nil
	}
	return status(vmFailed)
}

// greeting returns what a caller hears first: the temporary greeting while it exists, else the
// mailbox's busy or unavailable greeting, else the recorded name and "is on the phone" / "is
// unavailable", else "the person at extension" and the mailbox's digits.
func (a *apps) greeting(ctx context.Context, c *dialplan.Call, mailbox string, busy bool, rate int) []clip {
	kind, tail := voicemail.Unavail, "vm-isunavail"
	if busy {
		kind, tail = voicemail.Busy, "vm-isonphone"
	}
	for _, g := range []voicemail.Greeting{voicemail.Temp, kind} {
		if cl, ok := a.storedGreeting(ctx, c, mailbox, g, rate); ok {
			return []clip{cl}
		}
	}
	if cl, ok := a.storedGreeting(ctx, c, mailbox, voicemail.Name, rate); ok {
		return append([]clip{cl}, a.clips(rate, tail)...)
	}
	names := []string{"vm-theperson"}
	for _, r := range strings.SplitN(mailbox, "@", 2)[0] {
		if n := digitSound(r); n != "" {
			names = append(names, n)
		}
	}
	return a.clips(rate, append(names, tail)...)
}

func (a *apps) storedGreeting(ctx context.Context, c *dialplan.Call, mailbox string, g voicemail.Greeting, rate int) (clip, bool) {
	f, err := a.vm.store.Greeting(ctx, mailbox, g)
	if err != nil {
		if !errors.Is(err, voicemail.ErrNotFound) {
			c.Log.Warn("VoiceMail: greeting not played", "mailbox", mailbox, "greeting", g, "error", err)
		}
		return nil, false
	}
	cl, err := readAudio(f, rate)
	if err != nil {
		c.Log.Warn("VoiceMail: greeting not played", "mailbox", mailbox, "greeting", g, "error", err)
		return nil, false
	}
	return cl, true
}

// recordEnd is why a recording stopped.
type recordEnd string

const (
	endKey      recordEnd = "key"      // '#'
	endOperator recordEnd = "operator" // '0' with an "o" extension
	endSilence  recordEnd = "silence"
	endMax      recordEnd = "maxsecs"
	endHangup   recordEnd = "hangup"
)

// errSilence ends a Record after maxsilence.
var errSilence = errors.New("silence")

// record records the caller into rec until '#' (or '0' when operator), maxSilence of
// silence, the recording's maximum duration, or the caller's hangup. The trailing silence is
// not stored. The error is the store's (ErrMaxDuration: cut at maxsecs, still to commit) or
// the media's.
func (a *apps) record(ctx context.Context, c *dialplan.Call, m media.Audio, rec voicemail.Recording, maxSilence time.Duration, operator bool) (recordEnd, error) {
	rctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	defer stop()
	sink := &silenceSink{rec: rec, threshold: a.vm.opts.SilenceThreshold, maxSilence: maxSilence}
	done := make(chan error, 1)
	go func() { done <- m.Record(rctx, sink) }()
	finish := func(end recordEnd) (recordEnd, error) {
		stop()
		err := <-done
		if errors.Is(err, context.Canceled) || errors.Is(err, media.ErrClosed) {
			err = nil
		}
		return end, err
	}
	for {
		select {
		case d := <-m.Digits():
			if d.Digit == '#' {
				return finish(endKey)
			}
			if d.Digit == '0' && operator {
				return finish(endOperator)
			}
		case <-ctx.Done():
			return finish(endHangup)
		case err := <-done:
			switch {
			case errors.Is(err, errSilence):
				return endSilence, nil
			case errors.Is(err, voicemail.ErrMaxDuration):
				return endMax, err
			case err == nil, errors.Is(err, media.ErrClosed):
				return endHangup, nil
			}
			return "", err
		}
	}
}

// silenceSink writes decoded frames to a Recording, holding back frames of silence until the
// caller speaks again (so trailing silence is never stored) and ending the Record after
// maxSilence of it. The silence held is bounded by maxSilence.
type silenceSink struct {
	rec        voicemail.Recording
	threshold  int
	maxSilence time.Duration
	held       []int16
	silent     time.Duration
}

func (s *silenceSink) WriteFrame(f media.Frame) error {
	pcm := f.Samples
	if rate := s.rec.SampleRate(); f.SampleRate != rate && f.SampleRate > 0 {
		pcm = wav.Resample(pcm, f.SampleRate, rate)
	}
	if s.maxSilence <= 0 {
		return s.rec.WritePCM(pcm)
	}
	if isSilence(pcm, s.threshold) {
		s.held = append(s.held, pcm...)
		s.silent += time.Duration(len(pcm)) * time.Second / time.Duration(s.rec.SampleRate())
		if s.silent >= s.maxSilence {
			return errSilence
		}
		return nil
	}
	if len(s.held) > 0 {
		if err := s.rec.WritePCM(s.held); err != nil {
			return err
		}
		s.held, s.silent = s.held[:0], 0
	}
	return s.rec.WritePCM(pcm)
}

// isSilence reports whether the mean absolute amplitude of pcm is under threshold.
func isSilence(pcm []int16, threshold int) bool {
	if len(pcm) == 0 {
		return true
	}
	var sum int64
	for _, v := range pcm {
		if v < 0 {
			sum -= int64(v)
		} else {
			sum += int64(v)
		}
	}
	return sum/int64(len(pcm)) < int64(threshold)
}
