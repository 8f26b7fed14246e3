// Package app holds the dialplan applications that use media: Answer, Progress, Echo,
// Playback, PlayTones, Read, SayDigits, SayNumber, SendDTMF, VoiceMail and VoiceMailMain. Register adds them to a
// dialplan.Registry; they reach a call's audio as a media.Audio through dialplan.Call.Audio
// and know nothing of the media plane that implements it.
package app

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"

	"github.com/sidecar-voip/sidecar/dialplan"
	"github.com/sidecar-voip/sidecar/media"
	"github.com/sidecar-voip/sidecar/sounds"
	"github.com/sidecar-voip/sidecar/voicemail"
)

// Deps are what the applications need from the process.
type Deps struct {
	// Sounds is the operator's sounds directory (os.DirFS of [rtp] sounds), searched before the
	// stock prompts embedded in the binary; nil means the stock prompts only.
	Sounds fs.FS
	// Log receives warnings (missing prompts); nil discards them.
	Log *slog.Logger
	// Voicemail is the mailbox store of VoiceMail and VoiceMailMain. nil (check, render) loads
	// the same dialplan, since their Check needs no store; at run time VoiceMail then sets
	// VMSTATUS=FAILED and VoiceMailMain hangs up.
	Voicemail voicemail.Store
	// VoicemailOptions are their settings; nil means DefaultVoicemailOptions.
	VoicemailOptions *VoicemailOptions
	// VoicemailStats receives their counters (for metrics); nil keeps them private.
	VoicemailStats *VoicemailStats
}

// ErrNoMedia reports a call that has no media session (dialplan.ErrNoMedia).
var ErrNoMedia = dialplan.ErrNoMedia

// apps are the applications with their shared dependencies.
type apps struct {
	sounds []fs.FS
	log    *slog.Logger
	vm     *vm
}

// Register adds the media applications to reg.
func Register(reg *dialplan.Registry, deps Deps) error {
	a := &apps{log: deps.Log}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	if deps.Sounds != nil {
		a.sounds = append(a.sounds, deps.Sounds)
	}
	a.sounds = append(a.sounds, sounds.FS)
	a.vm = &vm{store: deps.Voicemail, opts: DefaultVoicemailOptions(), stats: deps.VoicemailStats}
	if deps.VoicemailOptions != nil {
		a.vm.opts = *deps.VoicemailOptions
	}
	if a.vm.stats == nil {
		a.vm.stats = new(VoicemailStats)
	}
	a.vm.locks = newLockout(max(1, a.vm.opts.MaxLoginAttempts), a.vm.opts.Lockout)
	var errs []error
	for _, app := range []dialplan.App{
		{Name: "Answer", MaxArgs: 1, Run: a.answer, Check: checkAnswer},
		{Name: "Progress", Run: a.progress}, // no arguments: Compile checks the count
		{Name: "Echo", Run: a.echo},         // no arguments: Compile checks the count
		{Name: "Playback", MinArgs: 1, MaxArgs: 2, Run: a.playback, Check: checkPlayback},
		{Name: "PlayTones", MinArgs: 1, MaxArgs: 2, Run: a.playTones, Check: checkPlayTones},
		{Name: "Read", MinArgs: 1, MaxArgs: 6, Run: a.read, Check: checkRead},
		{Name: "SayDigits", MinArgs: 1, MaxArgs: 1, Run: a.sayDigits, Check: checkSayDigits},
		{Name: "SayNumber", MinArgs: 1, MaxArgs: 2, Run: a.sayNumber, Check: checkSayNumber},
		{Name: "SendDTMF", MinArgs: 1, MaxArgs: 3, Run: a.sendDTMF, Check: checkSendDTMF},
		{Name: "VoiceMail", MinArgs: 1, MaxArgs: 2, Run: a.voiceMail, Check: checkVoiceMail},
		{Name: "VoiceMailMain", MaxArgs: 2, Run: a.voiceMailMain, Check: checkVoiceMailMain},
	} {
		errs = append(errs, reg.Register(app))
	}
	return errors.Join(errs...)
}

// audioOf returns the call's audio, answering the call first when it has none and answer is
// true; errors name app.
func audioOf(ctx context.Context, c *dialplan.Call, app string, answer bool) (media.Audio, error) {
	m, err := c.Audio(ctx, answer)
	if err != nil {
		return nil, appErrorf(app, "%w", err)
	}
	return m, nil
}

// hungUp reports whether the call's context has ended: the caller hung up or the service is
// draining. An app then stops the dialplan with Ended and no error: the end of a call is not a
// failure of the app.
func hungUp(ctx context.Context) bool { return ctx.Err() != nil }
