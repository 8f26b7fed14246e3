// Package fsstore is the voicemail.Store on a local directory (`[voicemail] dir`), laid out so
// an operator can read it:
//
//	DIR/MAILBOX/.lock                  flock: commits and moves exclusive, reads shared
//	DIR/MAILBOX/.next                  the next message number (never reused)
//	DIR/MAILBOX/.tmp/*                 recordings in progress, each flocked by its writer
//	DIR/MAILBOX/INBOX/0000000042.wav   audio (G.711 WAV, or 16-bit PCM for G.722 callers)
//	DIR/MAILBOX/INBOX/0000000042.txt   envelope (meta.go); its presence commits the message
//	DIR/MAILBOX/greetings/unavail.wav  greetings: unavail, busy, temp, name
//
// A recording streams to a temporary file; Commit fsyncs it, then under the mailbox lock
// allocates a number, renames the audio and then the envelope into the folder and fsyncs the
// directories. A crash or kill -9 at any point leaves either a complete message or files that
// no reader lists and that Open removes: temporary files whose writer's flock is gone, and
// audio without an envelope. Message numbers come from .next under the lock, so deposits from
// any number of goroutines and processes never share one; a crash may leave a gap, never a
// duplicate. Messages are never renumbered: readers keep their snapshot's numbers.
package fsstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/sidecar-voip/sidecar/voicemail"
)

// Store is a voicemail.Store on a directory. Several Stores, in one or more processes, may
// share a directory.
type Store struct {
	dir string
	// openTemp creates a recording's temporary file; tests replace it to inject write errors.
	openTemp func(path string) (tempFile, error)

	mu      sync.Mutex
	watch   *watcher // started by the first Watch
	closed  bool
	closing chan struct{}
}

// tempFile is what a recording needs of its temporary file.
type tempFile interface {
	io.WriteSeeker
	Sync() error
	Close() error
	Fd() uintptr
}

var _ voicemail.Store = (*Store)(nil)

// Open opens (creating it if needed) the store in dir and removes what crashed writers left:
// temporary files no process holds, audio without an envelope.
func Open(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("open voicemail store: %w", err)
	}
	s := &Store{dir: dir, closing: make(chan struct{})}
	s.openTemp = func(path string) (tempFile, error) {
		return os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o640)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("open voicemail store: %w", err)
	}
	for _, e := range ents {
		if e.IsDir() && voicemail.ValidMailbox(e.Name()) {
			if err := s.recover(e.Name()); err != nil {
				return nil, fmt.Errorf("open voicemail store: %w", err)
			}
		}
	}
	return s, nil
}

// Close stops watching; channels from Watch are closed. Recordings in progress may still be
// committed or discarded.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	close(s.closing)
	if s.watch != nil {
		return s.watch.close()
	}
	return nil
}

// Dir is the store's directory.
func (s *Store) Dir() string { return s.dir }

func (s *Store) mailboxDir(mbox string) string { return filepath.Join(s.dir, mbox) }

func (s *Store) folderDir(mbox string, f voicemail.Folder) string {
	return filepath.Join(s.dir, mbox, string(f))
}

func msgName(id uint64) string { return fmt.Sprintf("%010d", id) }

// parseMsgName returns the number of a "NNNNNNNNNN.ext" file name.
func parseMsgName(name, ext string) (uint64, bool) {
	base, ok := strings.CutSuffix(name, ext)
	if !ok || len(base) != 10 || strings.Trim(base, "0123456789") != "" {
		return 0, false
	}
	id, err := strconv.ParseUint(base, 10, 64)
	return id, err == nil
}

func checkMailbox(mbox string) error {
	if !voicemail.ValidMailbox(mbox) {
		return fmt.Errorf("%w: %q", voicemail.ErrMailbox, mbox)
	}
	return nil
}

// makeDirs creates a mailbox's directories.
func (s *Store) makeDirs(mbox string) error {
	for _, d := range []string{".tmp", "greetings", string(voicemail.Inbox), string(voicemail.Old), string(voicemail.Urgent)} {
		if err := os.MkdirAll(filepath.Join(s.dir, mbox, d), 0o750); err != nil {
			return diskErr(fmt.Errorf("create mailbox %s: %w", mbox, err))
		}
	}
	return nil
}

// lock takes the mailbox's flock (syscall.LOCK_EX or LOCK_SH). A lock on a mailbox that does
// not exist yet fails with an error satisfying os.IsNotExist unless create is set. flock
// locks belong to the open file, so two goroutines of one process exclude each other too.
func (s *Store) lock(mbox string, how int, create bool) (unlock func(), err error) {
	f, err := os.OpenFile(filepath.Join(s.mailboxDir(mbox), ".lock"), os.O_RDWR, 0o640)
	if err != nil && create && errors.Is(err, os.ErrNotExist) {
		// A new mailbox (or one an operator removed): make its directories first.
		if err := s.makeDirs(mbox); err != nil {
			return nil, err
		}
		f, err = os.OpenFile(filepath.Join(s.mailboxDir(mbox), ".lock"), os.O_RDWR|os.O_CREATE, 0o640)
	}
	if err != nil {
		return nil, diskErr(fmt.Errorf("lock mailbox %s: %w", mbox, err))
	}
	if err := flock(f.Fd(), how); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock mailbox %s: %w", mbox, err)
	}
	return func() { f.Close() }, nil
}

func flock(fd uintptr, how int) error {
	for {
		err := syscall.Flock(int(fd), how)
		if err != syscall.EINTR {
			return err
		}
	}
}

// syncDir fsyncs a directory so the renames in it survive a power loss.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

// diskErr marks an out-of-space error with voicemail.ErrDiskFull.
func diskErr(err error) error {
	if err != nil && (errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT)) && !errors.Is(err, voicemail.ErrDiskFull) {
		return fmt.Errorf("%w: %w", voicemail.ErrDiskFull, err)
	}
	return err
}

func newUID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// recover cleans one mailbox after a crash (under its lock): temporary files that no live
// writer holds, audio whose envelope never landed, envelopes without audio, and a move cut
// between its two renames (audio in the new folder, envelope in the old: the move completes).
func (s *Store) recover(mbox string) error {
	unlock, err := s.lock(mbox, syscall.LOCK_EX, true)
	if err != nil {
		return err
	}
	defer unlock()
	tmp := filepath.Join(s.mailboxDir(mbox), ".tmp")
	ents, _ := os.ReadDir(tmp)
	for _, e := range ents {
		p := filepath.Join(tmp, e.Name())
		f, err := os.Open(p)
		if err != nil {
			continue
		}
		if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) == nil {
			os.Remove(p) // its writer is gone
		}
		f.Close()
	}
	wavs := map[uint64]voicemail.Folder{}
	txts := map[uint64]voicemail.Folder{}
	for _, f := range voicemail.Folders {
		ents, _ := os.ReadDir(s.folderDir(mbox, f))
		for _, e := range ents {
			if id, ok := parseMsgName(e.Name(), ".wav"); ok {
				wavs[id] = f
			} else if id, ok := parseMsgName(e.Name(), ".txt"); ok {
				txts[id] = f
			}
		}
	}
	for id, wf := range wavs {
		tf, ok := txts[id]
		switch {
		case !ok:
			os.Remove(filepath.Join(s.folderDir(mbox, wf), msgName(id)+".wav"))
		case tf != wf:
			os.Rename(filepath.Join(s.folderDir(mbox, tf), msgName(id)+".txt"), filepath.Join(s.folderDir(mbox, wf), msgName(id)+".txt"))
		}
	}
	for id, tf := range txts {
		if _, ok := wavs[id]; !ok {
			os.Remove(filepath.Join(s.folderDir(mbox, tf), msgName(id)+".txt"))
		}
	}
	return nil
}

// ids lists the committed message numbers in a folder, ascending (caller holds the lock).
func (s *Store) ids(mbox string, f voicemail.Folder) ([]uint64, error) {
	ents, err := os.ReadDir(s.folderDir(mbox, f))
	if err != nil {
		if os.IsNotExist(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("list %s/%s: %w", mbox, f, err)
	}
	var ids []uint64
	for _, e := range ents {
		if id, ok := parseMsgName(e.Name(), ".txt"); ok {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids, nil
}

// readLocked takes the shared lock of an existing mailbox; exists is false (and unlock nil)
// for a mailbox never written.
func (s *Store) readLocked(ctx context.Context, mbox string) (unlock func(), exists bool, err error) {
	if err := ctx.Err(); err != nil {
		return nil, false, err
	}
	if err := checkMailbox(mbox); err != nil {
		return nil, false, err
	}
	unlock, err = s.lock(mbox, syscall.LOCK_SH, false)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, false, nil
		}
		return nil, false, err
	}
	return unlock, true, nil
}
