package fsstore

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/sidecar-voip/sidecar/app/wav"
	"github.com/sidecar-voip/sidecar/media/codecs"
	"github.com/sidecar-voip/sidecar/voicemail"
	"github.com/zaf/g711"
)

// Deposit starts a message recording into INBOX, or Urgent for an urgent one.
func (s *Store) Deposit(ctx context.Context, mbox string, env voicemail.Envelope, limits voicemail.Limits) (voicemail.Recording, error) {
	folder := voicemail.Inbox
	if env.Urgent {
		folder = voicemail.Urgent
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := checkMailbox(mbox); err != nil {
		return nil, err
	}
	n, err := s.Count(ctx, mbox, folder)
	if err != nil {
		return nil, err
	}
	if n >= limits.MaxMessages {
		return nil, fmt.Errorf("deposit into %s/%s: %w", mbox, folder, voicemail.ErrMailboxFull)
	}
	if env.Time.IsZero() {
		env.Time = time.Now()
	}
	r, err := s.newRecording(mbox, env.Codec, limits.MaxDuration, limits.MinDuration)
	if err != nil {
		return nil, err
	}
	r.folder, r.env, r.maxMessages = folder, env, limits.MaxMessages
	return r, nil
}

// PutGreeting starts a greeting recording.
func (s *Store) PutGreeting(ctx context.Context, mbox string, g voicemail.Greeting, codec string, limits voicemail.Limits) (voicemail.Recording, error) {
	if !g.Valid() {
		return nil, fmt.Errorf("%w: greeting %q", voicemail.ErrFolder, g)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := checkMailbox(mbox); err != nil {
		return nil, err
	}
	r, err := s.newRecording(mbox, codec, limits.MaxGreeting, limits.MinDuration)
	if err != nil {
		return nil, err
	}
	r.greeting = g
	return r, nil
}

// recording streams audio to a temporary file it holds flocked, so recovery in another
// process leaves it alone while it lives.
type recording struct {
	s          *Store
	mbox       string
	codec      string
	format     storageFormat
	maxSamples int64 // 0: no cap
	minSamples int64
	tmp        string
	f          tempFile
	w          *wav.Writer
	scratch    []byte
	done       bool
	err        error // a write error: Commit refuses

	// a message's
	folder      voicemail.Folder
	env         voicemail.Envelope
	maxMessages int
	// a greeting's
	greeting voicemail.Greeting
}

func (s *Store) newRecording(mbox, codec string, maxDur, minDur time.Duration) (*recording, error) {
	if c, ok := codecs.Canonical(codec); ok {
		codec = c // "PCMU", "ulaw" -> "pcmu"
	}
	format, ok := storage(codec)
	if !ok {
		return nil, fmt.Errorf("%w: codec %q (want pcmu, pcma or g722)", voicemail.ErrFormat, codec)
	}
	r := &recording{s: s, mbox: mbox, codec: codec, format: format,
		maxSamples: int64(maxDur) * int64(format.rate) / int64(time.Second),
		minSamples: int64(minDur) * int64(format.rate) / int64(time.Second)}
	// The temporary file is created and flocked under the mailbox's shared lock: recovery,
	// which holds it exclusively, never sees the file before its lock.
	unlock, err := s.lock(mbox, syscall.LOCK_SH, true)
	if err != nil {
		return nil, err
	}
	defer unlock()
	r.tmp = filepath.Join(s.mailboxDir(mbox), ".tmp", newUID()+".wav")
	f, err := s.openTemp(r.tmp)
	if err != nil {
		return nil, diskErr(fmt.Errorf("create recording for %s: %w", mbox, err))
	}
	if err := flock(f.Fd(), syscall.LOCK_EX); err != nil {
		f.Close()
		os.Remove(r.tmp)
		return nil, fmt.Errorf("lock recording for %s: %w", mbox, err)
	}
	w, err := wav.NewWriter(f, format.enc, format.rate)
	if err != nil {
		f.Close()
		os.Remove(r.tmp)
		return nil, fmt.Errorf("create recording for %s: %w", mbox, err)
	}
	r.f, r.w = f, w
	return r, nil
}

// room returns how many of n samples fit under the cap.
func (r *recording) room(n int) int {
	if r.maxSamples == 0 {
		return n
	}
	return int(max(0, min(int64(n), r.maxSamples-r.w.Samples())))
}

// fail records a write error, drops the temporary file at once (on a full disk the space is
// wanted back), and returns the error.
func (r *recording) fail(err error) error {
	err = diskErr(fmt.Errorf("record into %s: %w", r.mbox, err))
	r.err = err
	r.drop()
	return err
}

func (r *recording) drop() {
	if r.f != nil {
		r.f.Close()
		os.Remove(r.tmp)
		r.f = nil
	}
}

func (r *recording) usable() error {
	if r.done {
		return fmt.Errorf("record into %s: %w", r.mbox, voicemail.ErrClosed)
	}
	return r.err
}

// WritePCM appends samples, encoding them to G.711 when that is the stored format.
func (r *recording) WritePCM(samples []int16) error {
	if err := r.usable(); err != nil {
		return err
	}
	n := r.room(len(samples))
	var err error
	switch r.format.enc {
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
		return r.fail(err)
	}
	if n < len(samples) {
		return fmt.Errorf("record into %s: %w", r.mbox, voicemail.ErrMaxDuration)
	}
	return nil
}

// WritePayload appends raw G.711 payload of the recording's codec.
func (r *recording) WritePayload(p []byte) error {
	if err := r.usable(); err != nil {
		return err
	}
	if r.format.enc == wav.PCM16 {
		return fmt.Errorf("record into %s: %w: raw %s payload (write decoded PCM)", r.mbox, voicemail.ErrFormat, r.codec)
	}
	n := r.room(len(p))
	if _, err := r.w.Write(p[:n]); err != nil {
		return r.fail(err)
	}
	if n < len(p) {
		return fmt.Errorf("record into %s: %w", r.mbox, voicemail.ErrMaxDuration)
	}
	return nil
}

// SampleRate is the rate of the samples WritePCM takes.
func (r *recording) SampleRate() int { return r.format.rate }

// Duration is the audio written so far.
func (r *recording) Duration() time.Duration {
	return time.Duration(r.w.Samples()) * time.Second / time.Duration(r.format.rate)
}

// Discard drops the recording.
func (r *recording) Discard() error {
	if r.done {
		return nil
	}
	r.done = true
	r.drop()
	return nil
}

// Commit finishes the WAV, fsyncs it and moves it into place.
func (r *recording) Commit() (voicemail.Message, error) {
	if err := r.usable(); err != nil {
		return voicemail.Message{}, err
	}
	r.done = true
	defer r.drop() // after a successful commit the temporary name is gone; closes the file
	if r.w.Samples() < r.minSamples || r.w.Samples() == 0 {
		return voicemail.Message{}, fmt.Errorf("record into %s: %v of audio: %w", r.mbox, r.Duration(), voicemail.ErrTooShort)
	}
	if err := r.w.Close(); err != nil {
		return voicemail.Message{}, diskErr(fmt.Errorf("finish recording for %s: %w", r.mbox, err))
	}
	if err := r.f.Sync(); err != nil {
		return voicemail.Message{}, diskErr(fmt.Errorf("sync recording for %s: %w", r.mbox, err))
	}
	if r.greeting != "" {
		return voicemail.Message{}, r.commitGreeting()
	}
	return r.commitMessage()
}

func (r *recording) commitGreeting() error {
	s := r.s
	unlock, err := s.lock(r.mbox, syscall.LOCK_EX, true)
	if err != nil {
		return err
	}
	defer unlock()
	dst := s.greetingPath(r.mbox, r.greeting)
	if err := os.Rename(r.tmp, dst); err != nil {
		return diskErr(fmt.Errorf("store greeting %s/%s: %w", r.mbox, r.greeting, err))
	}
	return diskErr(syncDir(filepath.Dir(dst)))
}

func (r *recording) commitMessage() (voicemail.Message, error) {
	m, err := r.commitMessageLocked()
	if m.ID != 0 {
		r.s.changed(r.mbox)
	}
	return m, err
}

func (r *recording) commitMessageLocked() (voicemail.Message, error) {
	s := r.s
	m := voicemail.Message{
		Folder: r.folder, UID: newUID(), CallerID: clip(r.env.CallerID), CallerName: clip(r.env.CallerName),
		Time: r.env.Time.UTC(), Duration: r.Duration().Truncate(time.Millisecond), Urgent: r.env.Urgent, Codec: r.codec,
	}
	unlock, err := s.lock(r.mbox, syscall.LOCK_EX, true)
	if err != nil {
		return voicemail.Message{}, err
	}
	defer unlock()
	// The envelope is written under the lock: recovery (which holds it) removes unlocked
	// temporary files, and this one has no flock of its own.
	metaTmp := strings.TrimSuffix(r.tmp, ".wav") + ".txt"
	defer os.Remove(metaTmp) // gone after a successful rename
	if err := writeSynced(metaTmp, formatMeta(m)); err != nil {
		return voicemail.Message{}, diskErr(fmt.Errorf("store message for %s: %w", r.mbox, err))
	}
	ids, err := s.ids(r.mbox, r.folder)
	if err != nil {
		return voicemail.Message{}, err
	}
	if len(ids) >= r.maxMessages {
		return voicemail.Message{}, fmt.Errorf("deposit into %s/%s: %w", r.mbox, r.folder, voicemail.ErrMailboxFull)
	}
	id, err := s.allocate(r.mbox)
	if err != nil {
		return voicemail.Message{}, err
	}
	m.ID = id
	dir := s.folderDir(r.mbox, r.folder)
	if err := os.Rename(r.tmp, filepath.Join(dir, msgName(id)+".wav")); err != nil {
		return voicemail.Message{}, diskErr(fmt.Errorf("store message %s/%d: %w", r.mbox, id, err))
	}
	if err := os.Rename(metaTmp, filepath.Join(dir, msgName(id)+".txt")); err != nil {
		os.Remove(filepath.Join(dir, msgName(id)+".wav"))
		return voicemail.Message{}, diskErr(fmt.Errorf("store message %s/%d: %w", r.mbox, id, err))
	}
	if err := syncDir(dir); err != nil {
		return m, diskErr(fmt.Errorf("store message %s/%d: %w", r.mbox, id, err))
	}
	return m, nil
}

// allocate takes the next message number from .next (caller holds the exclusive lock). The
// counter is made durable before the number is used, so a crash can skip a number, never
// hand it out twice. A missing or damaged counter restarts above the highest number present;
// a number whose files exist anyway (copied in by an operator) is skipped, so a rename never
// replaces a message.
func (s *Store) allocate(mbox string) (uint64, error) {
	p := filepath.Join(s.mailboxDir(mbox), ".next")
	var next uint64
	if b, err := os.ReadFile(p); err == nil {
		if v, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64); err == nil && v > 0 {
			next = v
		}
	}
	if next == 0 {
		next = 1
		for _, f := range voicemail.Folders {
			ids, err := s.ids(mbox, f)
			if err != nil {
				return 0, err
			}
			if len(ids) > 0 && ids[len(ids)-1] >= next {
				next = ids[len(ids)-1] + 1
			}
		}
	}
	for s.taken(mbox, next) {
		next++
	}
	tmp := filepath.Join(s.mailboxDir(mbox), ".tmp", "next-"+newUID())
	if err := writeSynced(tmp, []byte(strconv.FormatUint(next+1, 10)+"\n")); err != nil {
		os.Remove(tmp)
		return 0, diskErr(fmt.Errorf("number message for %s: %w", mbox, err))
	}
	if err := os.Rename(tmp, p); err != nil {
		os.Remove(tmp)
		return 0, diskErr(fmt.Errorf("number message for %s: %w", mbox, err))
	}
	if err := syncDir(s.mailboxDir(mbox)); err != nil {
		return 0, diskErr(fmt.Errorf("number message for %s: %w", mbox, err))
	}
	return next, nil
}

// taken reports whether any folder holds a file of message number id.
func (s *Store) taken(mbox string, id uint64) bool {
	for _, f := range voicemail.Folders {
		for _, ext := range []string{".txt", ".wav"} {
			if _, err := os.Lstat(filepath.Join(s.folderDir(mbox, f), msgName(id)+ext)); err == nil {
				return true
			}
		}
	}
	return false
}

// writeSynced writes a new file and fsyncs it.
func writeSynced(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
