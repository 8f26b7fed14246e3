// Package app holds the dialplan applications that use media: Answer, Progress, Echo,
// Playback, PlayTones, Read, SayDigits, SayNumber and SendDTMF. Register adds them to a
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
)

// Deps are what the applications need from the process.
type Deps struct {
	// Sounds is the operator's sounds directory (os.DirFS of [rtp] sounds), searched before the
	// stock prompts embedded in the binary; nil means the stock prompts only.
	Sounds fs.FS
	// Log receives warnings (missing prompts); nil discards them.
	Log *slog.Logger
}

// ErrNoMedia reports a call that has no media session (dialplan.ErrNoMedia).
var ErrNoMedia = dialplan.ErrNoMedia

// apps are the applications with their shared dependencies.
type apps struct {
	sounds []fs.FS
	log    *slog.Logger
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
