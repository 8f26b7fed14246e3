package fsstore

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/fsnotify/fsnotify"
	"github.com/sidecar-voip/sidecar/voicemail"
	"github.com/sidecar-voip/sidecar/voicemail/internal/watchhub"
)

// Changes by this process reach watchers directly; changes by another process (a second
// sidecar on the same directory, an operator removing files) through inotify (fsnotify), one
// instance per Store and, per watched mailbox, watches on its directory and its INBOX, Old and
// Urgent folders, plus one on the store's directory to see a removed mailbox come back. A
// poll would cost a directory scan per mailbox per interval whether or not anything changed,
// and delay MWI by up to that interval; inotify costs nothing while idle and reports at once.
// Its limit (fs.inotify.max_user_watches, at least 8192) allows about 2000 watched mailboxes;
// past it Watch fails with the error. inotify does not see changes made on another host
// through NFS: a store shared between hosts is the PostgreSQL store's job.

// watcher turns inotify events into recounts of the hub's mailboxes.
type watcher struct {
	s    *Store
	fsw  *fsnotify.Watcher
	hub  *watchhub.Hub
	done chan struct{}
}

// watchedDirs are the directories whose changes alter a mailbox's counts.
var watchedDirs = []string{"", string(voicemail.Inbox), string(voicemail.Old), string(voicemail.Urgent)}

// Watch reports a mailbox's counts now and on every change until ctx ends.
func (s *Store) Watch(ctx context.Context, mbox string) (<-chan voicemail.Counts, error) {
	if err := checkMailbox(mbox); err != nil {
		return nil, err
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, fmt.Errorf("watch mailbox %s: %w", mbox, voicemail.ErrClosed)
	}
	if s.watch == nil {
		fsw, err := fsnotify.NewWatcher()
		if err != nil {
			s.mu.Unlock()
			return nil, fmt.Errorf("watch mailbox %s: %w", mbox, err)
		}
		if err := fsw.Add(s.dir); err != nil {
			fsw.Close()
			s.mu.Unlock()
			return nil, fmt.Errorf("watch mailbox %s: %w", mbox, err)
		}
		w := &watcher{s: s, fsw: fsw, done: make(chan struct{})}
		w.hub = watchhub.New(watchhub.Hooks{Counts: s.Counts, First: w.addDirs, Last: w.removeDirs})
		s.watch = w
		go w.loop()
	}
	w := s.watch
	s.mu.Unlock()

	if err := s.makeDirs(mbox); err != nil {
		return nil, fmt.Errorf("watch mailbox %s: %w", mbox, err)
	}
	ch, err := w.hub.Subscribe(ctx, mbox)
	if err != nil {
		return nil, fmt.Errorf("watch mailbox %s: %w", mbox, err)
	}
	return ch, nil
}

func (w *watcher) addDirs(mbox string) error {
	for _, d := range watchedDirs {
		if err := w.fsw.Add(filepath.Join(w.s.dir, mbox, d)); err != nil && !os.IsNotExist(err) {
			return err
		}
	}
	return nil
}

func (w *watcher) removeDirs(mbox string) {
	for _, d := range watchedDirs {
		w.fsw.Remove(filepath.Join(w.s.dir, mbox, d))
	}
}

// changed recounts a watched mailbox and tells its watchers if the counts moved. The caller
// must not hold the mailbox's lock (the recount takes it shared).
func (s *Store) changed(mbox string) {
	s.mu.Lock()
	w := s.watch
	s.mu.Unlock()
	if w != nil {
		w.hub.Recount(context.Background(), mbox, false)
	}
}

// loop turns inotify events into recounts of the mailbox they concern.
func (w *watcher) loop() {
	defer close(w.done)
	for {
		select {
		case ev, ok := <-w.fsw.Events:
			if !ok {
				return
			}
			rel, err := filepath.Rel(w.s.dir, ev.Name)
			if err != nil || strings.HasPrefix(rel, "..") {
				continue
			}
			parts := strings.Split(rel, string(filepath.Separator))
			mbox := parts[0]
			if len(parts) <= 2 && ev.Has(fsnotify.Create) {
				// A mailbox or folder directory (re)created: watch it again.
				w.hub.Watching(mbox, func() { w.addDirs(mbox) })
			}
			if len(parts) == 3 && strings.HasPrefix(parts[2], ".") {
				continue
			}
			if len(parts) == 2 && parts[1] != string(voicemail.Inbox) && parts[1] != string(voicemail.Old) && parts[1] != string(voicemail.Urgent) {
				continue // .lock, .next, .tmp, greetings
			}
			w.hub.Recount(context.Background(), mbox, false)
		case _, ok := <-w.fsw.Errors:
			if !ok {
				return
			}
			// An overflow loses events: recount everything watched.
			w.hub.RecountAll(context.Background(), false)
		}
	}
}

func (w *watcher) close() error {
	err := w.fsw.Close()
	<-w.done
	w.hub.Close()
	return err
}
