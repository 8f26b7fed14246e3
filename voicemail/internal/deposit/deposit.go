// Package deposit is the audio half of a voicemail recording that every store shares: the
// stored WAV format of a caller's codec, writing PCM or raw G.711 into it under a duration
// cap, and the minimum-duration check at commit. Where the WAV goes (a temporary file, a
// memory buffer) and how it is committed stay with the store.
package deposit

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/sidecar-voip/sidecar/app/wav"
	"github.com/sidecar-voip/sidecar/media/codecs"
	"github.com/sidecar-voip/sidecar/voicemail"
	"github.com/zaf/g711"
)

// Format is how a codec's audio is kept.
type Format struct {
	Enc  wav.Encoding
	Rate int
}

// Storage maps a canonical codec name to the stored WAV format: G.711 as is, G.722 decoded
// to 16-bit PCM at 16 kHz.
func Storage(codec string) (Format, bool) {
	switch codec {
	case "pcmu":
		return Format{wav.MuLaw, 8000}, true
	case "pcma":
		return Format{wav.ALaw, 8000}, true
	case "g722":
		return Format{wav.PCM16, 16000}, true
	}
	return Format{}, false
}

// Canonical returns a codec's canonical name ("PCMU", "ulaw" -> "pcmu") and its stored
// format, or voicemail.ErrFormat for a codec no store keeps.
func Canonical(codec string) (string, Format, error) {
	if c, ok := codecs.Canonical(codec); ok {
		codec = c
	}
	format, ok := Storage(codec)
	if !ok {
		return "", Format{}, fmt.Errorf("%w: codec %q (want pcmu, pcma or g722)", voicemail.ErrFormat, codec)
	}
	return codec, format, nil
}

// Recording writes a recording's audio into a WAV file and keeps its accounting. A store's
// voicemail.Recording embeds it and adds Commit and Discard. Not safe for concurrent use.
type Recording struct {
	mbox       string
	codec      string
	format     Format
	maxSamples int64 // 0: no cap
	minSamples int64
	w          *wav.Writer
	scratch    []byte
	done       bool
	err        error // a write error: later writes and Finish return it
	fail       func(error) error
}

// New starts a WAV of codec (any alias) in dst for mailbox mbox. maxDur 0 means no cap;
// recordings shorter than minDur are refused at Finish. fail, when not nil, is called with
// a write error (already naming the mailbox) and returns the error to report: the store's
// place to classify it and drop what it wrote.
func New(dst io.WriteSeeker, mbox, codec string, maxDur, minDur time.Duration, fail func(error) error) (*Recording, error) {
	codec, format, err := Canonical(codec)
	if err != nil {
		return nil, err
	}
	w, err := wav.NewWriter(dst, format.Enc, format.Rate)
	if err != nil {
		return nil, fmt.Errorf("create recording for %s: %w", mbox, err)
	}
	return &Recording{mbox: mbox, codec: codec, format: format, w: w, fail: fail,
		maxSamples: int64(maxDur) * int64(format.Rate) / int64(time.Second),
		minSamples: int64(minDur) * int64(format.Rate) / int64(time.Second)}, nil
}

// Mailbox is the mailbox the recording is for.
func (r *Recording) Mailbox() string { return r.mbox }

// Codec is the recording's canonical codec name.
func (r *Recording) Codec() string { return r.codec }

// room returns how many of n samples fit under the cap.
func (r *Recording) room(n int) int {
	if r.maxSamples == 0 {
		return n
	}
	return int(max(0, min(int64(n), r.maxSamples-r.w.Samples())))
}

func (r *Recording) failed(err error) error {
	err = fmt.Errorf("record into %s: %w", r.mbox, err)
	if r.fail != nil {
		err = r.fail(err)
	}
	r.err = err
	return err
}

// Usable returns voicemail.ErrClosed once the recording ended, or the write error that
// broke it.
func (r *Recording) Usable() error {
	if r.done {
		return fmt.Errorf("record into %s: %w", r.mbox, voicemail.ErrClosed)
	}
	return r.err
}

// WritePCM appends samples, encoding them to G.711 when that is the stored format.
func (r *Recording) WritePCM(samples []int16) error {
	if err := r.Usable(); err != nil {
		return err
	}
	n := r.room(len(samples))
	var err error
	switch r.format.Enc {
	case wav.PCM16:
		err = r.w.WriteSamples(samples[:n])
	case wav.MuLaw:
		r.scratch = r.scratch[:0]
		for _, v := range samples[:n] {
			r.scratch = append(r.scratch, g711.EncodeUlawFrame(v))
		}
		_, err = r.w.Write(r.scratch)
	case wav.ALaw:
		r.scratch = r.scratch[:0]
		for _, v := range samples[:n] {
			r.scratch = append(r.scratch, g711.EncodeAlawFrame(v))
		}
		_, err = r.w.Write(r.scratch)
	}
	if err != nil {
		return r.failed(err)
	}
	if n < len(samples) {
		return fmt.Errorf("record into %s: %w", r.mbox, voicemail.ErrMaxDuration)
	}
	return nil
}

// WritePayload appends raw G.711 payload of the recording's codec.
func (r *Recording) WritePayload(p []byte) error {
	if err := r.Usable(); err != nil {
		return err
	}
	if r.format.Enc == wav.PCM16 {
		return fmt.Errorf("record into %s: %w: raw %s payload (write decoded PCM)", r.mbox, voicemail.ErrFormat, r.codec)
	}
	n := r.room(len(p))
	if _, err := r.w.Write(p[:n]); err != nil {
		return r.failed(err)
	}
	if n < len(p) {
		return fmt.Errorf("record into %s: %w", r.mbox, voicemail.ErrMaxDuration)
	}
	return nil
}

// SampleRate is the rate of the samples WritePCM takes.
func (r *Recording) SampleRate() int { return r.format.Rate }

// Duration is the audio written so far.
func (r *Recording) Duration() time.Duration {
	return time.Duration(r.w.Samples()) * time.Second / time.Duration(r.format.Rate)
}

// End marks the recording ended and reports whether it already was (Discard after Commit
// is a no-op).
func (r *Recording) End() (already bool) {
	already, r.done = r.done, true
	r.scratch = nil
	return already
}

// Finish ends the recording for a commit: it refuses a broken or ended one, one under the
// minimum duration or empty (voicemail.ErrTooShort), and completes the WAV header. The
// store then makes the WAV durable and visible.
func (r *Recording) Finish() error {
	if err := r.Usable(); err != nil {
		return err
	}
	r.End()
	if r.w.Samples() < r.minSamples || r.w.Samples() == 0 {
		return fmt.Errorf("record into %s: %v of audio: %w", r.mbox, r.Duration(), voicemail.ErrTooShort)
	}
	if err := r.w.Close(); err != nil {
		return fmt.Errorf("finish recording for %s: %w", r.mbox, err)
	}
	return nil
}

// Target is the folder a deposit goes to: Urgent for an urgent message, else INBOX.
func Target(env voicemail.Envelope) voicemail.Folder {
	if env.Urgent {
		return voicemail.Urgent
	}
	return voicemail.Inbox
}

// Full returns voicemail.ErrMailboxFull when a folder holding n messages takes no more
// under a limit of maxMessages, else nil.
func Full(mbox string, folder voicemail.Folder, n, maxMessages int) error {
	if n >= maxMessages {
		return fmt.Errorf("deposit into %s/%s: %w", mbox, folder, voicemail.ErrMailboxFull)
	}
	return nil
}

// CheckGreeting checks what PutGreeting is given before any work: a known greeting, a live
// context and a valid mailbox name.
func CheckGreeting(ctx context.Context, mbox string, g voicemail.Greeting) error {
	if !g.Valid() {
		return fmt.Errorf("%w: greeting %q", voicemail.ErrFolder, g)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if !voicemail.ValidMailbox(mbox) {
		return fmt.Errorf("%w: %q", voicemail.ErrMailbox, mbox)
	}
	return nil
}
