package fsstore

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/fsnotify/fsnotify"
	"github.com/sidecar-voip/sidecar/voicemail"
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

// watcher fans mailbox counts out to subscribers.
type watcher struct {
	s   *Store
	fsw *fsnotify.Watcher

	// recountMu orders recounts, so a slower one never overwrites newer counts.
	recountMu sync.Mutex

	mu    sync.Mutex
	boxes map[string]*watched
	done  chan struct{}
}

type watched struct {
	subs map[*sub]struct{}
	last voicemail.Counts
	have bool
}

type sub struct {
	ch   chan voicemail.Counts
	stop func() bool
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
		s.watch = &watcher{s: s, fsw: fsw, boxes: map[string]*watched{}, done: make(chan struct{})}
		go s.watch.loop()
	}
	w := s.watch
	s.mu.Unlock()

	if err := s.makeDirs(mbox); err != nil {
		return nil, fmt.Errorf("watch mailbox %s: %w", mbox, err)
	}
	sb := &sub{ch: make(chan voicemail.Counts, 1)}
	w.mu.Lock()
	b := w.boxes[mbox]
	if b == nil {
		b = &watched{subs: map[*sub]struct{}{}}
		w.boxes[mbox] = b
		if err := w.addDirs(mbox); err != nil {
			delete(w.boxes, mbox)
			w.mu.Unlock()
			return nil, fmt.Errorf("watch mailbox %s: %w", mbox, err)
		}
	}
	b.subs[sb] = struct{}{}
	w.mu.Unlock()
	sb.stop = context.AfterFunc(ctx, func() { w.unsubscribe(mbox, sb) })
	// The first value: read after subscribing, so no change can fall between.
	c, err := s.Counts(context.WithoutCancel(ctx), mbox)
	if err == nil {
		w.mu.Lock()
		if _, live := b.subs[sb]; live {
			if !b.have { // else b.last is newer than c or equal: every change since updated it
				b.last, b.have = c, true
			}
			offer(sb.ch, b.last)
		}
		w.mu.Unlock()
	}
	return sb.ch, nil
}

func (w *watcher) addDirs(mbox string) error {
	for _, d := range watchedDirs {
		if err := w.fsw.Add(filepath.Join(w.s.dir, mbox, d)); err != nil && !os.IsNotExist(err) {
			return err
		}
	}
	return nil
}

func (w *watcher) unsubscribe(mbox string, sb *sub) {
	w.mu.Lock()
	defer w.mu.Unlock()
	b := w.boxes[mbox]
	if b == nil {
		return
	}
	if _, ok := b.subs[sb]; !ok {
		return
	}
	delete(b.subs, sb)
	close(sb.ch)
	if len(b.subs) == 0 {
		delete(w.boxes, mbox)
		for _, d := range watchedDirs {
			w.fsw.Remove(filepath.Join(w.s.dir, mbox, d))
		}
	}
}

// offer puts c in a one-slot channel, replacing a value not yet read.
func offer(ch chan voicemail.Counts, c voicemail.Counts) {
	for {
		select {
		case ch <- c:
			return
		default:
		}
		select {
		case <-ch:
		default:
		}
	}
}

// changed recounts a watched mailbox and tells its watchers if the counts moved. The caller
// must not hold the mailbox's lock (the recount takes it shared).
func (s *Store) changed(mbox string) {
	s.mu.Lock()
	w := s.watch
	s.mu.Unlock()
	if w != nil {
		w.recount(mbox)
	}
}

func (w *watcher) recount(mbox string) {
	w.mu.Lock()
	_, watched := w.boxes[mbox]
	w.mu.Unlock()
	if !watched {
		return
	}
	w.recountMu.Lock()
	defer w.recountMu.Unlock()
	c, err := w.s.Counts(context.Background(), mbox)
	if err != nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	b := w.boxes[mbox]
	if b == nil || (b.have && b.last == c) {
		return
	}
	b.last, b.have = c, true
	for sb := range b.subs {
		offer(sb.ch, c)
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
				w.mu.Lock()
				if _, ok := w.boxes[mbox]; ok {
					w.addDirs(mbox)
				}
				w.mu.Unlock()
			}
			if len(parts) == 3 && strings.HasPrefix(parts[2], ".") {
				continue
			}
			if len(parts) == 2 && parts[1] != string(voicemail.Inbox) && parts[1] != string(voicemail.Old) && parts[1] != string(voicemail.Urgent) {
				continue // .lock, .next, .tmp, greetings
			}
			w.recount(mbox)
		case _, ok := <-w.fsw.Errors:
			if !ok {
				return
			}
			// An overflow loses events: recount everything watched.
			w.mu.Lock()
			boxes := make([]string, 0, len(w.boxes))
			for m := range w.boxes {
				boxes = append(boxes, m)
			}
			w.mu.Unlock()
			for _, m := range boxes {
				w.recount(m)
			}
		}
	}
}

func (w *watcher) close() error {
	err := w.fsw.Close()
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	for m, b := range w.boxes {
		for sb := range b.subs {
			sb.stop()
			close(sb.ch)
		}
		delete(w.boxes, m)
	}
	return err
}
