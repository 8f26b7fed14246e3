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

	"github.com/sidecar-voip/sidecar/voicemail"
	"github.com/sidecar-voip/sidecar/voicemail/internal/deposit"
)

// Deposit starts a message recording into INBOX, or Urgent for an urgent one.
func (s *Store) Deposit(ctx context.Context, mbox string, env voicemail.Envelope, limits voicemail.Limits) (voicemail.Recording, error) {
	folder := deposit.Target(env)
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
	if err := deposit.Full(mbox, folder, n, limits.MaxMessages); err != nil {
		return nil, err
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
	if err := deposit.CheckGreeting(ctx, mbox, g); err != nil {
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
	*deposit.Recording
	s    *Store
	mbox string
	tmp  string
	f    tempFile

	// a message's
	folder      voicemail.Folder
	env         voicemail.Envelope
	maxMessages int
	// a greeting's
	greeting voicemail.Greeting
}

func (s *Store) newRecording(mbox, codec string, maxDur, minDur time.Duration) (*recording, error) {
	if _, _, err := deposit.Canonical(codec); err != nil {
		return nil, err
	}
	r := &recording{s: s, mbox: mbox}
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
	// A write error drops the temporary file at once (on a full disk the space is wanted
	// back).
	rec, err := deposit.New(f, mbox, codec, maxDur, minDur, func(err error) error {
		r.drop()
		return diskErr(err)
	})
	if err != nil {
		f.Close()
		os.Remove(r.tmp)
		return nil, err
	}
	r.f, r.Recording = f, rec
	return r, nil
}

func (r *recording) drop() {
	if r.f != nil {
		r.f.Close()
		os.Remove(r.tmp)
		r.f = nil
	}
}

// Discard drops the recording.
func (r *recording) Discard() error {
	if !r.End() {
		r.drop()
	}
	return nil
}

// Commit finishes the WAV, fsyncs it and moves it into place.
func (r *recording) Commit() (voicemail.Message, error) {
	if err := r.Usable(); err != nil {
		return voicemail.Message{}, err
	}
	defer r.drop() // after a successful commit the temporary name is gone; closes the file
	if err := r.Finish(); err != nil {
		return voicemail.Message{}, diskErr(err)
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
		Time: r.env.Time.UTC(), Duration: r.Duration().Truncate(time.Millisecond), Urgent: r.env.Urgent, Codec: r.Codec(),
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
	if err := deposit.Full(r.mbox, r.folder, len(ids), r.maxMessages); err != nil {
		return voicemail.Message{}, err
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
