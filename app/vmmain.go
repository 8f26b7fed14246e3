package app

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/sidecar-voip/sidecar/dialplan"
	"github.com/sidecar-voip/sidecar/media"
	"github.com/sidecar-voip/sidecar/profile"
	"github.com/sidecar-voip/sidecar/voicemail"
)

// voiceMailMainArgs are VoiceMailMain's parsed arguments.
type voiceMailMainArgs struct {
	mailbox string
	skipPIN bool
}

// parseVoiceMailMain parses VoiceMailMain([mailbox][,options]); templated arguments (lit[i]
// false) are skipped. Run and Check both call it.
func parseVoiceMailMain(args []string, lit []bool) (voiceMailMainArgs, error) {
	var v voiceMailMainArgs
	if len(args) > 0 && known(lit, 0) {
		v.mailbox = strings.TrimSpace(args[0])
		if v.mailbox != "" && !voicemail.ValidMailbox(v.mailbox) {
			return v, appErrorf("VoiceMailMain", "%w %q", voicemail.ErrMailbox, v.mailbox)
		}
	}
	if len(args) > 1 && known(lit, 1) {
		for _, o := range strings.TrimSpace(args[1]) {
			switch o {
			case 's':
				v.skipPIN = true
			default:
				return v, appErrorf("VoiceMailMain", "unknown option %q in %q (want s)", o, args[1])
			}
		}
	}
	return v, nil
}

func checkVoiceMailMain(args []string, lit []bool) error {
	_, err := parseVoiceMailMain(args, lit)
	return err
}

// mainSession is one VoiceMailMain call after login.
type mainSession struct {
	a       *apps
	c       *dialplan.Call
	m       media.Audio
	rate    int
	mailbox string
	limits  voicemail.Limits
	folder  voicemail.Folder
	msgs    []voicemail.Message
	cur     int // index in msgs; -1 before the first message
}

// voiceMailMain is VoiceMailMain([mailbox][,options]): the mailbox owner's menu. The mailbox
// is the argument, else the caller profile's mailbox-id, else asked for. The PIN is checked
// against the profile holding the mailbox (option s skips it: only for a context that trusts
// its callers). max-login-attempts wrong PINs end the call after a delay and lock the mailbox
// for [voicemail] lockout. Menu keys as in Asterisk: 1 first message, 4/6 previous/next, 5
// repeat, 7 delete, 9 save to a folder, 2 change folder, 0 mailbox options (1-4 record the
// unavailable, busy, name and temporary greetings), * help, # exit. The call ends with it.
// A mailbox store that cannot be reached (a shared database down), found before the PIN or
// at any step after it, plays vm-unavailable and hangs up.
func (a *apps) voiceMailMain(ctx context.Context, c *dialplan.Call, args []string) (dialplan.Result, error) {
	va, err := parseVoiceMailMain(args, nil)
	if err != nil {
		return dialplan.Result{}, err
	}
	m, err := audioOf(ctx, c, "VoiceMailMain", true)
	if err != nil {
		return dialplan.Result{}, err
	}
	s := &mainSession{a: a, c: c, m: m, rate: m.SampleRate(), cur: -1}
	if s.rate == 0 {
		return dialplan.Result{}, appErrorf("VoiceMailMain", "%w", media.ErrNoEncoder)
	}
	m.FlushDigits()
	ok, err := s.login(ctx, va)
	if err == nil && ok {
		err = s.menu(ctx)
	}
	if hungUp(ctx) {
		return dialplan.Ended(), nil
	}
	if errors.Is(err, voicemail.ErrUnavailable) {
		return a.unavailable(ctx, c, "VoiceMailMain", s.mailbox, err, false)
	}
	if err != nil {
		c.Log.Error("VoiceMailMain failed", "mailbox", s.mailbox, "error", err)
	}
	s.play(ctx, "vm-goodbye")
	if err := c.Hangup(ctx); err != nil && !hungUp(ctx) {
		c.Log.Warn("VoiceMailMain: hangup failed", "error", err)
	}
	return dialplan.Ended(), nil
}

// play plays prompts; a digit interrupts them and is returned.
func (s *mainSession) play(ctx context.Context, names ...string) (rune, error) {
	return playInterruptible(ctx, s.m, s.a.clips(s.rate, names...), anyDigit)
}

// ask plays prompts and returns the key pressed during them or within the key timeout after
// them (0: none).
func (s *mainSession) ask(ctx context.Context, names ...string) (rune, error) {
	d, err := s.play(ctx, names...)
	if err != nil || d != 0 {
		return d, err
	}
	return waitDigit(ctx, s.m, s.a.vm.opts.KeyTimeout)
}

// readEntry reads digits until '#' after a prompt (interrupted by the first digit); ok is
// false when nothing was entered in time.
func (s *mainSession) readEntry(ctx context.Context, prompt string) (string, bool, error) {
	ra := readArgs{prompts: []string{prompt}, timeout: s.a.vm.opts.KeyTimeout}
	digits, status := s.a.collect(ctx, s.m, ra)
	if status == "HANGUP" {
		return "", false, ctx.Err()
	}
	return digits, status == "OK" && digits != "", nil
}

// login finds the mailbox and checks the PIN. The PIN entered is compared in constant time
// and never logged; a locked mailbox is refused with the same prompt as a wrong PIN.
func (s *mainSession) login(ctx context.Context, va voiceMailMainArgs) (bool, error) {
	a, c := s.a, s.c
	s.mailbox = va.mailbox
	if s.mailbox == "" && c.Caller() != nil {
		s.mailbox = c.Caller().MailboxID
	}
	for try := 0; s.mailbox == "" && try < 3; try++ {
		mb, ok, err := s.readEntry(ctx, "vm-login")
		if err != nil {
			return false, err
		}
		if ok && voicemail.ValidMailbox(mb) {
			s.mailbox = mb
		}
	}
	if s.mailbox == "" {
		return false, nil
	}
	if a.vm.store == nil {
		return false, errNoStore
	}
	// A store that cannot be reached is said before the caller types a PIN for nothing.
	if _, err := a.vm.store.Count(ctx, s.mailbox, voicemail.Inbox); errors.Is(err, voicemail.ErrUnavailable) {
		return false, err
	}
	owner := profileOf(c, s.mailbox, true)
	s.limits = a.vm.limitsFor(owner)
	if va.skipPIN {
		a.vm.stats.Logins.Add(1)
		c.Log.Info("VoiceMailMain: login without PIN (option s)", "mailbox", s.mailbox)
		return true, nil
	}
	maxTries := max(1, a.vm.opts.MaxLoginAttempts)
	for try := 0; try < maxTries; try++ {
		pin, _, err := s.readEntry(ctx, "vm-password")
		if err != nil {
			return false, err
		}
		if a.vm.locks.locked(s.mailbox) {
			a.vm.stats.LockedRefusals.Add(1)
			c.Log.Warn("VoiceMailMain: login refused, mailbox locked", "mailbox", s.mailbox)
		} else if owner != nil && profile.SecretEqual(owner.MailboxPIN, pin) {
			a.vm.locks.ok(s.mailbox)
			a.vm.stats.Logins.Add(1)
			c.Log.Info("VoiceMailMain: login", "mailbox", s.mailbox)
			return true, nil
		} else {
			a.vm.stats.LoginFailures.Add(1)
			c.Log.Warn("VoiceMailMain: wrong PIN", "mailbox", s.mailbox, "attempt", try+1)
			if a.vm.locks.fail(s.mailbox) {
				a.vm.stats.Lockouts.Add(1)
				c.Log.Warn("VoiceMailMain: mailbox locked", "mailbox", s.mailbox, "for", a.vm.opts.Lockout)
			}
		}
		if _, err := s.play(ctx, "vm-incorrect"); err != nil {
			return false, err
		}
	}
	// The delay slows a brute force down; then goodbye and hang up.
	t := time.NewTimer(a.vm.opts.FailDelay)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
		return false, ctx.Err()
	}
	return false, nil
}

// list reads the current folder afresh.
func (s *mainSession) list(ctx context.Context) error {
	msgs, err := s.a.vm.store.List(ctx, s.mailbox, s.folder)
	if err != nil {
		return err
	}
	s.msgs, s.cur = msgs, -1
	return nil
}

// folderName is the prompt of a folder ("vm-INBOX" says "new").
func folderName(f voicemail.Folder) string { return "vm-" + string(f) }

// countPrompts says "you have N new and M old messages" (or "no messages").
func (s *mainSession) countPrompts(ctx context.Context) ([]string, error) {
	cn, err := s.a.vm.store.Counts(ctx, s.mailbox)
	if err != nil {
		return nil, err
	}
	p := []string{"vm-youhave"}
	if cn.New == 0 && cn.Old == 0 {
		return append(p, "vm-no", "vm-messages"), nil
	}
	say := func(n int, f voicemail.Folder) {
		p = append(p, NumberSounds(n)...)
		p = append(p, folderName(f))
		if n == 1 {
			p = append(p, "vm-message")
		} else {
			p = append(p, "vm-messages")
		}
	}
	if cn.New > 0 {
		say(cn.New, voicemail.Inbox)
	}
	if cn.New > 0 && cn.Old > 0 {
		p = append(p, "vm-and")
	}
	if cn.Old > 0 {
		say(cn.Old, voicemail.Old)
	}
	return p, nil
}

// menu runs the main menu until '#', the caller's hangup or three silent prompts.
func (s *mainSession) menu(ctx context.Context) error {
	cn, err := s.a.vm.store.Counts(ctx, s.mailbox)
	if err != nil {
		return err
	}
	s.folder = voicemail.Inbox
	if cn.New == 0 && cn.Old > 0 {
		s.folder = voicemail.Old
	}
	if err := s.list(ctx); err != nil {
		return err
	}
	intro, err := s.countPrompts(ctx)
	if err != nil {
		return err
	}
	key, err := s.ask(ctx, append(intro, "vm-instructions")...)
	for silent := 0; ; {
		if err != nil {
			return err
		}
		if key == 0 {
			if silent++; silent >= 3 {
				return nil
			}
			key, err = s.ask(ctx, s.instructions()...)
			continue
		}
		silent = 0
		switch key {
		case '#':
			return nil
		case '1':
			if err = s.list(ctx); err == nil {
				key, err = s.playAt(ctx, 0)
			}
			continue
		case '5':
			key, err = s.playAt(ctx, s.cur)
			continue
		case '4':
			key, err = s.playAt(ctx, s.cur-1)
			continue
		case '6':
			key, err = s.playAt(ctx, s.cur+1)
			continue
		case '7':
			key, err = s.remove(ctx, "")
			continue
		case '9':
			key, err = s.saveTo(ctx)
			continue
		case '2':
			key, err = s.changeFolder(ctx)
			continue
		case '0':
			key, err = s.options(ctx)
			continue
		}
		key, err = s.ask(ctx, s.instructions()...) // '*' (help) and any other key
	}
}

// instructions are the main menu, with the message keys once a message has been played.
func (s *mainSession) instructions() []string {
	if s.cur >= 0 && s.cur < len(s.msgs) {
		return []string{"vm-msginstruct", "vm-instructions"}
	}
	return []string{"vm-instructions"}
}

// playAt plays message i of the snapshot: its position ("first message", "message 3", "last
// message"), the envelope (date, time and caller), the audio; a heard INBOX message moves to
// Old. Out of range it says "no more messages" (or "no messages").
func (s *mainSession) playAt(ctx context.Context, i int) (rune, error) {
	if len(s.msgs) == 0 {
		return s.ask(ctx, "vm-no", folderName(s.folder), "vm-messages")
	}
	if i < 0 || i >= len(s.msgs) {
		return s.ask(ctx, "vm-nomore")
	}
	s.cur = i
	msg := s.msgs[i]
	_, f, err := s.a.vm.store.Open(ctx, s.mailbox, msg.ID)
	if errors.Is(err, voicemail.ErrNotFound) { // deleted or moved by someone else meanwhile
		s.msgs = append(s.msgs[:i], s.msgs[i+1:]...)
		return s.playAt(ctx, i)
	}
	if err != nil {
		return 0, err
	}
	audio, err := readAudio(f, s.rate)
	if err != nil {
		return 0, err
	}
	var head []string
	switch {
	case i == 0:
		head = []string{"vm-first", "vm-message"}
	case i == len(s.msgs)-1:
		head = []string{"vm-last", "vm-message"}
	default:
		head = append([]string{"vm-message"}, NumberSounds(i+1)...)
	}
	head = append(head, envelopePrompts(msg)...)
	clips := append(s.a.clips(s.rate, head...), audio)
	d, err := playInterruptible(ctx, s.m, clips, anyDigit)
	if err != nil {
		return 0, err
	}
	if msg.Folder == voicemail.Inbox || msg.Folder == voicemail.Urgent {
		if _, err := s.a.vm.store.MarkRead(ctx, s.mailbox, msg.ID); err != nil && !errors.Is(err, voicemail.ErrNotFound) {
			s.c.Log.Warn("VoiceMailMain: mark read failed", "mailbox", s.mailbox, "id", msg.ID, "error", err)
		}
	}
	if d != 0 {
		return d, nil
	}
	return s.ask(ctx, "vm-msginstruct")
}

// envelopePrompts say when the message arrived and from whom: "received <month> <day> at
// <hour> <minutes> <a-m/p-m> from phone number <digits>".
func envelopePrompts(msg voicemail.Message) []string {
	t := msg.Time.Local()
	p := []string{"vm-received", "digits/mon-" + strconv.Itoa(int(t.Month())-1)}
	p = append(p, NumberSounds(t.Day())...)
	p = append(p, "digits/at")
	h := t.Hour() % 12
	if h == 0 {
		h = 12
	}
	p = append(p, NumberSounds(h)...)
	switch mi := t.Minute(); {
	case mi == 0:
		p = append(p, "digits/oclock")
	case mi < 10:
		p = append(p, "digits/0")
		p = append(p, NumberSounds(mi)...)
	default:
		p = append(p, NumberSounds(mi)...)
	}
	if t.Hour() < 12 {
		p = append(p, "digits/a-m")
	} else {
		p = append(p, "digits/p-m")
	}
	var digits []string
	for _, r := range msg.CallerID {
		if n := digitSound(r); n != "" && r != '#' {
			digits = append(digits, n)
		}
	}
	if len(digits) == 0 {
		return append(p, "vm-unknown-caller")
	}
	return append(append(p, "vm-from-phonenumber"), digits...)
}

// remove deletes the current message (key 7), or drops it from the snapshot after a save
// (said is then the prompt already chosen).
func (s *mainSession) remove(ctx context.Context, said string) (rune, error) {
	if s.cur < 0 || s.cur >= len(s.msgs) {
		return s.ask(ctx, s.instructions()...)
	}
	if said == "" {
		if err := s.a.vm.store.Delete(ctx, s.mailbox, s.msgs[s.cur].ID); err != nil && !errors.Is(err, voicemail.ErrNotFound) {
			return 0, err
		}
		s.c.Log.Info("VoiceMailMain: message deleted", "mailbox", s.mailbox, "id", s.msgs[s.cur].ID)
		said = "vm-deleted"
	}
	s.msgs = append(s.msgs[:s.cur], s.msgs[s.cur+1:]...)
	s.cur-- // 6 plays what followed
	return s.ask(ctx, said)
}

// folderKey maps a folder menu digit to its folder (0 INBOX ... 4 Friends).
func folderKey(d rune) (voicemail.Folder, bool) {
	i := int(d - '0')
	if i < 0 || i > 4 {
		return "", false
	}
	return voicemail.Folders[i], true
}

// saveTo is key 9: ask for a folder digit and move the current message there.
func (s *mainSession) saveTo(ctx context.Context) (rune, error) {
	if s.cur < 0 || s.cur >= len(s.msgs) {
		return s.ask(ctx, s.instructions()...)
	}
	d, err := s.ask(ctx, "vm-savefolder")
	if err != nil {
		return 0, err
	}
	f, ok := folderKey(d)
	if !ok {
		return s.ask(ctx, s.instructions()...)
	}
	msg, err := s.a.vm.store.Move(ctx, s.mailbox, s.msgs[s.cur].ID, f, s.limits.MaxMessages)
	if errors.Is(err, voicemail.ErrMailboxFull) {
		return s.ask(ctx, "vm-mailboxfull")
	}
	if err != nil && !errors.Is(err, voicemail.ErrNotFound) {
		return 0, err
	}
	if f == s.folder {
		s.msgs[s.cur] = msg
		return s.ask(ctx, "vm-saved")
	}
	return s.remove(ctx, "vm-saved")
}

// changeFolder is key 2: ask for a folder digit and list it.
func (s *mainSession) changeFolder(ctx context.Context) (rune, error) {
	d, err := s.ask(ctx, "vm-changeto")
	if err != nil {
		return 0, err
	}
	f, ok := folderKey(d)
	if !ok {
		return s.ask(ctx, s.instructions()...)
	}
	s.folder = f
	if err := s.list(ctx); err != nil {
		return 0, err
	}
	p := NumberSounds(len(s.msgs))
	if len(s.msgs) == 0 {
		p = []string{"vm-no"}
	}
	p = append(p, folderName(f))
	if len(s.msgs) == 1 {
		p = append(p, "vm-message")
	} else {
		p = append(p, "vm-messages")
	}
	return s.ask(ctx, append(p, "vm-instructions")...)
}

// options is key 0: record a greeting (1 unavailable, 2 busy, 3 name, 4 temporary); '*'
// returns to the main menu.
func (s *mainSession) options(ctx context.Context) (rune, error) {
	for {
		d, err := s.ask(ctx, "vm-options")
		if err != nil {
			return 0, err
		}
		var g voicemail.Greeting
		var prompt string
		switch d {
		case '1':
			g, prompt = voicemail.Unavail, "vm-rec-unv"
		case '2':
			g, prompt = voicemail.Busy, "vm-rec-busy"
		case '3':
			g, prompt = voicemail.Name, "vm-rec-name"
		case '4':
			g, prompt = voicemail.Temp, "vm-rec-temp"
		case 0, '*', '#':
			return s.ask(ctx, "vm-instructions")
		default:
			continue
		}
		if err := s.recordGreeting(ctx, g, prompt); err != nil {
			return 0, err
		}
	}
}

// recordGreeting records one greeting after its prompt and a beep, until '#', silence or
// maxgreet; it replaces the previous one only when committed.
func (s *mainSession) recordGreeting(ctx context.Context, g voicemail.Greeting, prompt string) error {
	if _, err := playInterruptible(ctx, s.m, s.a.clips(s.rate, prompt, "beep"), nil); err != nil {
		return err
	}
	rec, err := s.a.vm.store.PutGreeting(context.WithoutCancel(ctx), s.mailbox, g, s.m.Codec(), s.limits)
	if err != nil {
		return err
	}
	defer rec.Discard()
	if _, err := s.a.record(ctx, s.c, s.m, rec, s.limits.MaxSilence, false); err != nil && !errors.Is(err, voicemail.ErrMaxDuration) {
		return err
	}
	if _, err := rec.Commit(); err != nil {
		if errors.Is(err, voicemail.ErrTooShort) {
			return nil
		}
		return err
	}
	s.c.Log.Info("VoiceMailMain: greeting recorded", "mailbox", s.mailbox, "greeting", g)
	if hungUp(ctx) {
		return ctx.Err()
	}
	_, err = s.play(ctx, "vm-saved")
	return err
}
