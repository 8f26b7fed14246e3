package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"
	"time"

	"github.com/sidecar-voip/sidecar/app/tone"
	"github.com/sidecar-voip/sidecar/app/wav"
	"github.com/sidecar-voip/sidecar/dialplan"
	"github.com/sidecar-voip/sidecar/media"
)

// ErrNoSound reports a prompt found in no sounds directory.
var ErrNoSound = errors.New("sound not found")

// appErrorf formats an error about one application: "App: message".
func appErrorf(app, format string, args ...any) error {
	return fmt.Errorf("%s: "+format, append([]any{app}, args...)...)
}

// load reads a prompt by name ("digits/5", "hello.wav") at the session's sample rate. The name
// is a slash-separated path inside the sounds directories; ".." and absolute paths are refused.
func (a *apps) load(name string, rate int) ([]int16, error) {
	name = strings.TrimSpace(name)
	if path.Ext(name) == "" {
		name += ".wav"
	}
	if !fs.ValidPath(name) || path.Ext(name) != ".wav" {
		return nil, fmt.Errorf("%w: %q is not a .wav path inside the sounds directory", ErrNoSound, name)
	}
	for _, fsys := range a.sounds {
		b, err := fs.ReadFile(fsys, name)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read sound %s: %w", name, err)
		}
		samples, r, err := wav.Decode(b)
		if err != nil {
			return nil, fmt.Errorf("read sound %s: %w", name, err)
		}
		return wav.Resample(samples, r, rate), nil
	}
	return nil, fmt.Errorf("%w: %s", ErrNoSound, name)
}

// pcmSource plays samples already at the session's rate.
type pcmSource struct{ s []int16 }

func (p *pcmSource) ReadFrame(f []int16) (int, error) {
	if len(p.s) == 0 {
		return 0, io.EOF
	}
	n := copy(f, p.s)
	p.s = p.s[n:]
	return n, nil
}

// playFiles plays prompts in turn. A missing or unreadable prompt is logged and skipped; the
// first such error is returned after the rest played.
func (a *apps) playFiles(ctx context.Context, m media.Audio, names []string) error {
	rate := m.SampleRate()
	if rate == 0 {
		return media.ErrNoEncoder
	}
	var first error
	for _, n := range names {
		pcm, err := a.load(n, rate)
		if err != nil {
			a.log.Warn("prompt not played", "sound", n, "error", err)
			if first == nil {
				first = err
			}
			continue
		}
		if err := m.Play(ctx, &pcmSource{pcm}); err != nil {
			return err
		}
	}
	return first
}

// playback is Playback(file[&file...][,options]): play prompts, answering first unless the
// option "noanswer" is given (then the call needs early media: Progress). It sets
// PLAYBACKSTATUS to SUCCESS or FAILED and continues either way, as Asterisk does.
func (a *apps) playback(ctx context.Context, c *dialplan.Call, args []string) (dialplan.Result, error) {
	answer := true
	if len(args) == 2 {
		for _, o := range strings.Split(args[1], "&") {
			switch strings.TrimSpace(o) {
			case "noanswer":
				answer = false
			case "", "skip":
			default:
				return dialplan.Result{}, appErrorf("Playback", "unknown option %q", o)
			}
		}
	}
	m, err := audioOf(ctx, c, "Playback", answer)
	if err != nil {
		return dialplan.Result{}, err
	}
	err = a.playFiles(ctx, m, strings.Split(args[0], "&"))
	if hungUp(ctx) {
		return dialplan.Ended(), nil
	}
	status := "SUCCESS"
	if err != nil {
		status = "FAILED"
		c.Log.Warn("Playback failed", "error", err)
	}
	if err := c.SetVar("PLAYBACKSTATUS", status); err != nil {
		return dialplan.Result{}, err
	}
	return dialplan.Next(), nil
}

// maxToneSeconds bounds PlayTones.
const maxToneSeconds = 600

// playTones is PlayTones(name[,seconds]): play a call-progress tone (ringback, busy,
// congestion, dial, beep) for seconds (default: one cadence for beep, 10 s for the others).
// Unlike Asterisk's Playtones it blocks while the tone plays. It uses early media when the
// call has it and is not answered, else answers.
func (a *apps) playTones(ctx context.Context, c *dialplan.Call, args []string) (dialplan.Result, error) {
	name := strings.ToLower(strings.TrimSpace(args[0]))
	cad, ok := tone.Tones[name]
	if !ok {
		return dialplan.Result{}, appErrorf("PlayTones", "unknown tone %q (want one of %s)", name, strings.Join(tone.Names(), ", "))
	}
	total := 10 * time.Second
	if name == "beep" {
		total = 0
	}
	if len(args) == 2 && strings.TrimSpace(args[1]) != "" {
		var secs float64
		if _, err := fmt.Sscanf(strings.TrimSpace(args[1]), "%g", &secs); err != nil || secs <= 0 || secs > maxToneSeconds {
			return dialplan.Result{}, appErrorf("PlayTones", "duration %q: want seconds in (0, %d]", args[1], maxToneSeconds)
		}
		total = time.Duration(secs * float64(time.Second))
	}
	m, err := audioOf(ctx, c, "PlayTones", true)
	if err != nil {
		return dialplan.Result{}, err
	}
	rate := m.SampleRate()
	if rate == 0 {
		return dialplan.Result{}, appErrorf("PlayTones", "%w", media.ErrNoEncoder)
	}
	if err := m.Play(ctx, tone.New(cad, rate, total)); err != nil {
		if hungUp(ctx) {
			return dialplan.Ended(), nil
		}
		return dialplan.Result{}, appErrorf("PlayTones", "%w", err)
	}
	return dialplan.Next(), nil
}
