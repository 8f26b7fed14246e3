package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strconv"
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

// known reports whether argument i has its final text: always at run time (lit nil), at load
// time when it has no template action.
func known(lit []bool, i int) bool { return lit == nil || i < len(lit) && lit[i] }

// soundPath turns a prompt name ("digits/5", "hello.wav") into its path inside the sounds
// directories: a slash-separated .wav path; empty names, ".." and absolute paths are refused.
func soundPath(name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return "", fmt.Errorf("%w: empty prompt name", ErrNoSound)
	}
	if path.Ext(name) == "" {
		name += ".wav"
	}
	if !fs.ValidPath(name) || path.Ext(name) != ".wav" {
		return "", fmt.Errorf("%w: %q is not a .wav path inside the sounds directory", ErrNoSound, name)
	}
	return name, nil
}

// checkPrompts checks each name of "file[&file...]" with soundPath, the function load uses.
// At run time a bad name is logged and skipped (PLAYBACKSTATUS FAILED, as a missing file);
// written literally it can never play, so the check rejects it. Whether the file exists is not
// checked: the operator's sounds directory may change without a reload.
func checkPrompts(app, s string) error {
	for _, n := range strings.Split(strings.TrimSpace(s), "&") {
		if _, err := soundPath(n); err != nil {
			return appErrorf(app, "%w", err)
		}
	}
	return nil
}

// load reads a prompt by name ("digits/5", "hello.wav") at the session's sample rate (see
// soundPath for the names accepted).
func (a *apps) load(name string, rate int) ([]int16, error) {
	name, err := soundPath(name)
	if err != nil {
		return nil, err
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

// playbackArgs are Playback's parsed arguments.
type playbackArgs struct {
	files  []string
	answer bool
}

// parsePlayback parses Playback(file[&file...][,options]); templated arguments (lit[i] false)
// are skipped. Run and Check both call it.
func parsePlayback(args []string, lit []bool) (playbackArgs, error) {
	p := playbackArgs{answer: true, files: strings.Split(args[0], "&")}
	if len(args) == 2 && known(lit, 1) {
		for _, o := range strings.Split(args[1], "&") {
			switch strings.TrimSpace(o) {
			case "noanswer":
				p.answer = false
			case "", "skip":
			default:
				return p, appErrorf("Playback", "unknown option %q (want noanswer or skip)", strings.TrimSpace(o))
			}
		}
	}
	return p, nil
}

func checkPlayback(args []string, lit []bool) error {
	if _, err := parsePlayback(args, lit); err != nil {
		return err
	}
	if known(lit, 0) {
		return checkPrompts("Playback", args[0])
	}
	return nil
}

// playback is Playback(file[&file...][,options]): play prompts, answering first unless the
// option "noanswer" is given (then the call needs early media: Progress). It sets
// PLAYBACKSTATUS to SUCCESS or FAILED and continues either way, as Asterisk does.
func (a *apps) playback(ctx context.Context, c *dialplan.Call, args []string) (dialplan.Result, error) {
	pa, err := parsePlayback(args, nil)
	if err != nil {
		return dialplan.Result{}, err
	}
	m, err := audioOf(ctx, c, "Playback", pa.answer)
	if err != nil {
		return dialplan.Result{}, err
	}
	err = a.playFiles(ctx, m, pa.files)
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

// playTonesArgs are PlayTones' parsed arguments.
type playTonesArgs struct {
	cadence []tone.Segment
	total   time.Duration
}

// parsePlayTones parses PlayTones(name[,seconds]); templated arguments (lit[i] false) are
// skipped. Run and Check both call it.
func parsePlayTones(args []string, lit []bool) (playTonesArgs, error) {
	var pt playTonesArgs
	if known(lit, 0) {
		name := strings.ToLower(strings.TrimSpace(args[0]))
		cad, ok := tone.Tones[name]
		if !ok {
			return pt, appErrorf("PlayTones", "unknown tone %q (want one of %s)", name, strings.Join(tone.Names(), ", "))
		}
		pt.cadence, pt.total = cad, 10*time.Second
		if name == "beep" {
			pt.total = 0
		}
	}
	if len(args) == 2 && known(lit, 1) && strings.TrimSpace(args[1]) != "" {
		secs, err := strconv.ParseFloat(strings.TrimSpace(args[1]), 64)
		if err != nil || !(secs > 0 && secs <= maxToneSeconds) {
			return pt, appErrorf("PlayTones", "duration %q: want seconds in (0, %d]", args[1], maxToneSeconds)
		}
		pt.total = time.Duration(secs * float64(time.Second))
	}
	return pt, nil
}

func checkPlayTones(args []string, lit []bool) error {
	_, err := parsePlayTones(args, lit)
	return err
}

// playTones is PlayTones(name[,seconds]): play a call-progress tone (ringback, busy,
// congestion, dial, beep) for seconds (default: one cadence for beep, 10 s for the others).
// Unlike Asterisk's Playtones it blocks while the tone plays. It uses early media when the
// call has it and is not answered, else answers.
func (a *apps) playTones(ctx context.Context, c *dialplan.Call, args []string) (dialplan.Result, error) {
	pt, err := parsePlayTones(args, nil)
	if err != nil {
		return dialplan.Result{}, err
	}
	cad, total := pt.cadence, pt.total
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
