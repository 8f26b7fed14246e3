package fsstore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"github.com/sidecar-voip/sidecar/voicemail"
)

// Count returns the number of messages in a folder.
func (s *Store) Count(ctx context.Context, mbox string, f voicemail.Folder) (int, error) {
	if !f.Valid() {
		return 0, fmt.Errorf("%w: %q", voicemail.ErrFolder, f)
	}
	unlock, ok, err := s.readLocked(ctx, mbox)
	if err != nil || !ok {
		return 0, err
	}
	defer unlock()
	ids, err := s.ids(mbox, f)
	return len(ids), err
}

// Counts returns the message-waiting counts: New counts INBOX and Urgent, Old the Old folder,
// UrgentNew the Urgent folder and UrgentOld the urgent messages in Old (as Asterisk does; the
// Work, Family and Friends folders count for neither).
func (s *Store) Counts(ctx context.Context, mbox string) (voicemail.Counts, error) {
	unlock, ok, err := s.readLocked(ctx, mbox)
	if err != nil || !ok {
		return voicemail.Counts{}, err
	}
	defer unlock()
	return s.countsLocked(mbox)
}

func (s *Store) countsLocked(mbox string) (voicemail.Counts, error) {
	var c voicemail.Counts
	inbox, err := s.ids(mbox, voicemail.Inbox)
	if err != nil {
		return c, err
	}
	urgent, err := s.ids(mbox, voicemail.Urgent)
	if err != nil {
		return c, err
	}
	old, err := s.list(mbox, voicemail.Old)
	if err != nil {
		return c, err
	}
	c.New = len(inbox) + len(urgent)
	c.UrgentNew = len(urgent)
	c.Old = len(old)
	for _, m := range old {
		if m.Urgent {
			c.UrgentOld++
		}
	}
	return c, nil
}

// List returns a folder's messages, ascending by number. A message whose envelope does not
// parse is left out (Open reports why).
func (s *Store) List(ctx context.Context, mbox string, f voicemail.Folder) ([]voicemail.Message, error) {
	if !f.Valid() {
		return nil, fmt.Errorf("%w: %q", voicemail.ErrFolder, f)
	}
	unlock, ok, err := s.readLocked(ctx, mbox)
	if err != nil || !ok {
		return nil, err
	}
	defer unlock()
	return s.list(mbox, f)
}

func (s *Store) list(mbox string, f voicemail.Folder) ([]voicemail.Message, error) {
	ids, err := s.ids(mbox, f)
	if err != nil {
		return nil, err
	}
	msgs := make([]voicemail.Message, 0, len(ids))
	for _, id := range ids {
		m, err := s.readMeta(mbox, f, id)
		if err != nil {
			continue
		}
		msgs = append(msgs, m)
	}
	return msgs, nil
}

func (s *Store) readMeta(mbox string, f voicemail.Folder, id uint64) (voicemail.Message, error) {
	p := filepath.Join(s.folderDir(mbox, f), msgName(id)+".txt")
	b, err := os.ReadFile(p)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return voicemail.Message{}, fmt.Errorf("read message %s/%d: %w", mbox, id, voicemail.ErrNotFound)
		}
		return voicemail.Message{}, fmt.Errorf("read message %s/%d: %w", mbox, id, err)
	}
	m, err := parseMeta(p, b)
	if err != nil {
		return voicemail.Message{}, err
	}
	m.ID, m.Folder = id, f
	return m, nil
}

// find returns the folder a message is in (caller holds the lock).
func (s *Store) find(mbox string, id uint64) (voicemail.Folder, error) {
	for _, f := range voicemail.Folders {
		if _, err := os.Stat(filepath.Join(s.folderDir(mbox, f), msgName(id)+".txt")); err == nil {
			return f, nil
		}
	}
	return "", fmt.Errorf("message %s/%d: %w", mbox, id, voicemail.ErrNotFound)
}

// Open returns a message's envelope and audio, wherever it is now.
func (s *Store) Open(ctx context.Context, mbox string, id uint64) (voicemail.Message, voicemail.Audio, error) {
	unlock, ok, err := s.readLocked(ctx, mbox)
	if err != nil {
		return voicemail.Message{}, nil, err
	}
	if !ok {
		return voicemail.Message{}, nil, fmt.Errorf("message %s/%d: %w", mbox, id, voicemail.ErrNotFound)
	}
	defer unlock()
	f, err := s.find(mbox, id)
	if err != nil {
		return voicemail.Message{}, nil, err
	}
	m, err := s.readMeta(mbox, f, id)
	if err != nil {
		return voicemail.Message{}, nil, err
	}
	a, err := os.Open(filepath.Join(s.folderDir(mbox, f), msgName(id)+".wav"))
	if err != nil {
		return voicemail.Message{}, nil, fmt.Errorf("open message %s/%d: %w", mbox, id, err)
	}
	return m, a, nil
}

// Move moves a message to another folder: the audio, then the envelope (Open's recovery
// completes a move cut between the two).
func (s *Store) Move(ctx context.Context, mbox string, id uint64, to voicemail.Folder, maxMessages int) (voicemail.Message, error) {
	if !to.Valid() {
		return voicemail.Message{}, fmt.Errorf("%w: %q", voicemail.ErrFolder, to)
	}
	if err := ctx.Err(); err != nil {
		return voicemail.Message{}, err
	}
	if err := checkMailbox(mbox); err != nil {
		return voicemail.Message{}, err
	}
	unlock, err := s.lock(mbox, syscall.LOCK_EX, false)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return voicemail.Message{}, fmt.Errorf("message %s/%d: %w", mbox, id, voicemail.ErrNotFound)
		}
		return voicemail.Message{}, err
	}
	m, err := s.moveLocked(mbox, id, to, maxMessages)
	unlock()
	if err == nil {
		s.changed(mbox)
	}
	return m, err
}

func (s *Store) moveLocked(mbox string, id uint64, to voicemail.Folder, maxMessages int) (voicemail.Message, error) {
	from, err := s.find(mbox, id)
	if err != nil {
		return voicemail.Message{}, err
	}
	m, err := s.readMeta(mbox, from, id)
	if err != nil {
		return voicemail.Message{}, err
	}
	if from == to {
		return m, nil
	}
	if maxMessages >= 0 {
		ids, err := s.ids(mbox, to)
		if err != nil {
			return voicemail.Message{}, err
		}
		if len(ids) >= maxMessages {
			return voicemail.Message{}, fmt.Errorf("move message %s/%d to %s: %w", mbox, id, to, voicemail.ErrMailboxFull)
		}
	}
	dst := s.folderDir(mbox, to)
	if err := os.MkdirAll(dst, 0o750); err != nil {
		return voicemail.Message{}, diskErr(fmt.Errorf("move message %s/%d: %w", mbox, id, err))
	}
	src := s.folderDir(mbox, from)
	for _, ext := range []string{".wav", ".txt"} {
		if err := os.Rename(filepath.Join(src, msgName(id)+ext), filepath.Join(dst, msgName(id)+ext)); err != nil {
			return voicemail.Message{}, fmt.Errorf("move message %s/%d: %w", mbox, id, err)
		}
	}
	if err := syncDir(dst); err != nil {
		return voicemail.Message{}, fmt.Errorf("move message %s/%d: %w", mbox, id, err)
	}
	if err := syncDir(src); err != nil {
		return voicemail.Message{}, fmt.Errorf("move message %s/%d: %w", mbox, id, err)
	}
	m.Folder = to
	return m, nil
}

// MarkRead moves a message from INBOX or Urgent to Old; elsewhere it is left alone.
func (s *Store) MarkRead(ctx context.Context, mbox string, id uint64) (voicemail.Message, error) {
	if err := ctx.Err(); err != nil {
		return voicemail.Message{}, err
	}
	if err := checkMailbox(mbox); err != nil {
		return voicemail.Message{}, err
	}
	unlock, err := s.lock(mbox, syscall.LOCK_EX, false)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return voicemail.Message{}, fmt.Errorf("message %s/%d: %w", mbox, id, voicemail.ErrNotFound)
		}
		return voicemail.Message{}, err
	}
	m, moved, err := s.markReadLocked(mbox, id)
	unlock()
	if moved {
		s.changed(mbox)
	}
	return m, err
}

func (s *Store) markReadLocked(mbox string, id uint64) (m voicemail.Message, moved bool, err error) {
	f, err := s.find(mbox, id)
	if err != nil {
		return voicemail.Message{}, false, err
	}
	if f != voicemail.Inbox && f != voicemail.Urgent {
		m, err = s.readMeta(mbox, f, id)
		return m, false, err
	}
	m, err = s.moveLocked(mbox, id, voicemail.Old, -1)
	return m, err == nil, err
}

// Delete removes a message: the envelope first, so a crash between leaves only audio that
// recovery removes.
func (s *Store) Delete(ctx context.Context, mbox string, id uint64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := checkMailbox(mbox); err != nil {
		return err
	}
	unlock, err := s.lock(mbox, syscall.LOCK_EX, false)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("message %s/%d: %w", mbox, id, voicemail.ErrNotFound)
		}
		return err
	}
	err = s.deleteLocked(mbox, id)
	unlock()
	if err == nil {
		s.changed(mbox)
	}
	return err
}

func (s *Store) deleteLocked(mbox string, id uint64) error {
	f, err := s.find(mbox, id)
	if err != nil {
		return err
	}
	dir := s.folderDir(mbox, f)
	if err := os.Remove(filepath.Join(dir, msgName(id)+".txt")); err != nil {
		return fmt.Errorf("delete message %s/%d: %w", mbox, id, err)
	}
	if err := os.Remove(filepath.Join(dir, msgName(id)+".wav")); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("delete message %s/%d: %w", mbox, id, err)
	}
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("delete message %s/%d: %w", mbox, id, err)
	}
	return nil
}

func (s *Store) greetingPath(mbox string, g voicemail.Greeting) string {
	return filepath.Join(s.mailboxDir(mbox), "greetings", string(g)+".wav")
}

// Greeting opens a greeting's WAV file.
func (s *Store) Greeting(ctx context.Context, mbox string, g voicemail.Greeting) (voicemail.Audio, error) {
	if !g.Valid() {
		return nil, fmt.Errorf("%w: greeting %q", voicemail.ErrFolder, g)
	}
	unlock, ok, err := s.readLocked(ctx, mbox)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("greeting %s/%s: %w", mbox, g, voicemail.ErrNotFound)
	}
	defer unlock()
	a, err := os.Open(s.greetingPath(mbox, g))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("greeting %s/%s: %w", mbox, g, voicemail.ErrNotFound)
		}
		return nil, fmt.Errorf("open greeting %s/%s: %w", mbox, g, err)
	}
	return a, nil
}

// DeleteGreeting removes a greeting.
func (s *Store) DeleteGreeting(ctx context.Context, mbox string, g voicemail.Greeting) error {
	if !g.Valid() {
		return fmt.Errorf("%w: greeting %q", voicemail.ErrFolder, g)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := checkMailbox(mbox); err != nil {
		return err
	}
	unlock, err := s.lock(mbox, syscall.LOCK_EX, false)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return err
	}
	defer unlock()
	if err := os.Remove(s.greetingPath(mbox, g)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("delete greeting %s/%s: %w", mbox, g, err)
	}
	return syncDir(filepath.Dir(s.greetingPath(mbox, g)))
}
