package fsstore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/sidecar-voip/sidecar/voicemail"
	"github.com/sidecar-voip/sidecar/voicemail/transfer"
)

var _ transfer.Sink = (*Store)(nil)
var _ transfer.Source = (*Store)(nil)

// Mailboxes lists the mailbox directories, sorted.
func (s *Store) Mailboxes(ctx context.Context) ([]string, error) {
	ents, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("list mailboxes: %w", err)
	}
	var boxes []string
	for _, e := range ents {
		if e.IsDir() && voicemail.ValidMailbox(e.Name()) {
			boxes = append(boxes, e.Name())
		}
	}
	slices.Sort(boxes)
	return boxes, nil
}

// Import stores a message under its own number (transfer.Sink), with the commit's order:
// audio then envelope renamed into the folder under the mailbox lock, the counter moved past
// the number.
func (s *Store) Import(ctx context.Context, mbox string, m voicemail.Message, wavFile []byte) (bool, error) {
	if err := checkMailbox(mbox); err != nil {
		return false, err
	}
	if !m.Folder.Valid() || m.ID == 0 {
		return false, fmt.Errorf("import message %s/%d: %w: folder %q", mbox, m.ID, voicemail.ErrFolder, m.Folder)
	}
	if err := ctx.Err(); err != nil {
		return false, err
	}
	unlock, err := s.lock(mbox, syscall.LOCK_EX, true)
	if err != nil {
		return false, err
	}
	isNew, err := s.importLocked(mbox, m, wavFile)
	unlock()
	if err == nil {
		s.changed(mbox)
	}
	return isNew, err
}

func (s *Store) importLocked(mbox string, m voicemail.Message, wavFile []byte) (bool, error) {
	if f, err := s.find(mbox, m.ID); err == nil {
		have, err := s.readMeta(mbox, f, m.ID)
		if err != nil {
			return false, err
		}
		if have.UID != m.UID {
			return false, fmt.Errorf("import message %s/%d (uid %s): %w (uid %s)", mbox, m.ID, m.UID, transfer.ErrConflict, have.UID)
		}
		if f != m.Folder {
			if _, err := s.moveLocked(mbox, m.ID, m.Folder, -1); err != nil {
				return false, err
			}
		}
		return false, nil
	}
	if s.taken(mbox, m.ID) {
		return false, fmt.Errorf("import message %s/%d: %w (audio without envelope)", mbox, m.ID, transfer.ErrConflict)
	}
	if _, err := parseMeta("import", formatMeta(m)); err != nil {
		return false, fmt.Errorf("import message %s/%d: %w", mbox, m.ID, err)
	}
	tmp := filepath.Join(s.mailboxDir(mbox), ".tmp", "import-"+newUID())
	defer os.Remove(tmp + ".wav")
	defer os.Remove(tmp + ".txt")
	if err := writeSynced(tmp+".wav", wavFile); err != nil {
		return false, diskErr(fmt.Errorf("import message %s/%d: %w", mbox, m.ID, err))
	}
	if err := writeSynced(tmp+".txt", formatMeta(m)); err != nil {
		return false, diskErr(fmt.Errorf("import message %s/%d: %w", mbox, m.ID, err))
	}
	dir := s.folderDir(mbox, m.Folder)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return false, diskErr(fmt.Errorf("import message %s/%d: %w", mbox, m.ID, err))
	}
	if err := os.Rename(tmp+".wav", filepath.Join(dir, msgName(m.ID)+".wav")); err != nil {
		return false, diskErr(fmt.Errorf("import message %s/%d: %w", mbox, m.ID, err))
	}
	if err := os.Rename(tmp+".txt", filepath.Join(dir, msgName(m.ID)+".txt")); err != nil {
		os.Remove(filepath.Join(dir, msgName(m.ID)+".wav"))
		return false, diskErr(fmt.Errorf("import message %s/%d: %w", mbox, m.ID, err))
	}
	if err := syncDir(dir); err != nil {
		return true, diskErr(err)
	}
	return true, s.bumpNext(mbox, m.ID+1)
}

// bumpNext moves the mailbox's counter to at least next (caller holds the lock).
func (s *Store) bumpNext(mbox string, next uint64) error {
	p := filepath.Join(s.mailboxDir(mbox), ".next")
	if b, err := os.ReadFile(p); err == nil {
		if v, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64); err == nil && v >= next {
			return nil
		}
	}
	tmp := filepath.Join(s.mailboxDir(mbox), ".tmp", "next-"+newUID())
	if err := writeSynced(tmp, []byte(strconv.FormatUint(next, 10)+"\n")); err != nil {
		os.Remove(tmp)
		return diskErr(fmt.Errorf("number messages of %s: %w", mbox, err))
	}
	if err := os.Rename(tmp, p); err != nil {
		os.Remove(tmp)
		return diskErr(fmt.Errorf("number messages of %s: %w", mbox, err))
	}
	return diskErr(syncDir(s.mailboxDir(mbox)))
}

// ImportGreeting stores a greeting's WAV file (transfer.Sink).
func (s *Store) ImportGreeting(ctx context.Context, mbox string, g voicemail.Greeting, wavFile []byte) error {
	if !g.Valid() {
		return fmt.Errorf("%w: greeting %q", voicemail.ErrFolder, g)
	}
	if err := checkMailbox(mbox); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	unlock, err := s.lock(mbox, syscall.LOCK_EX, true)
	if err != nil {
		return err
	}
	defer unlock()
	tmp := filepath.Join(s.mailboxDir(mbox), ".tmp", "greeting-"+newUID())
	defer os.Remove(tmp)
	if err := writeSynced(tmp, wavFile); err != nil {
		return diskErr(fmt.Errorf("import greeting %s/%s: %w", mbox, g, err))
	}
	dst := s.greetingPath(mbox, g)
	if err := os.Rename(tmp, dst); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			err = fmt.Errorf("greetings directory missing: %w", err)
		}
		return diskErr(fmt.Errorf("import greeting %s/%s: %w", mbox, g, err))
	}
	return diskErr(syncDir(filepath.Dir(dst)))
}

// NextNumber is the number the mailbox's next message would get (transfer.Source).
func (s *Store) NextNumber(ctx context.Context, mbox string) (uint64, error) {
	unlock, ok, err := s.readLocked(ctx, mbox)
	if err != nil || !ok {
		return 1, err
	}
	defer unlock()
	next := uint64(1)
	if b, err := os.ReadFile(filepath.Join(s.mailboxDir(mbox), ".next")); err == nil {
		if v, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64); err == nil && v > 0 {
			next = v
		}
	}
	for _, f := range voicemail.Folders {
		ids, err := s.ids(mbox, f)
		if err != nil {
			return 0, err
		}
		if len(ids) > 0 && ids[len(ids)-1] >= next {
			next = ids[len(ids)-1] + 1
		}
	}
	return next, nil
}

// ReserveNumbers moves the mailbox's counter to at least next (transfer.Sink).
func (s *Store) ReserveNumbers(ctx context.Context, mbox string, next uint64) error {
	if err := checkMailbox(mbox); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	unlock, err := s.lock(mbox, syscall.LOCK_EX, true)
	if err != nil {
		return err
	}
	defer unlock()
	return s.bumpNext(mbox, next)
}
