// Package watch calls a function when watched files change, once per burst of changes:
// editors save a file in several steps (write a swap file, truncate, write, rename), and
// configuration tools replace whole directories, so Run waits for a quiet moment before it
// calls. It is the "[general] watch = yes" trigger of a hot reload, on fsnotify.
package watch

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Defaults of Options.
const (
	DefaultQuiet   = 300 * time.Millisecond
	DefaultMaxDirs = 256
)

// ErrTooManyDirs is logged (once per scan) when a watched tree has more directories than
// Options.MaxDirs: the ones past the bound are not watched.
var ErrTooManyDirs = errors.New("too many directories to watch")

// Options are what Run watches.
type Options struct {
	// Dirs are directory trees: a change to any file in them or their subdirectories counts
	// (hidden files, editor swap and backup files excepted). The template directory.
	Dirs []string
	// Files are single files: a change counts when it is to the file itself (or, for a
	// Kubernetes ConfigMap mount, to the "..data" link of its directory). Their directories
	// are watched, not their subdirectories. The settings file.
	Files []string
	// Quiet is how long Run waits after the last change before it calls; 0 means
	// DefaultQuiet.
	Quiet time.Duration
	// MaxDirs bounds the directories watched; 0 means DefaultMaxDirs.
	MaxDirs int
	// Log receives the watcher's errors; nil discards them.
	Log *slog.Logger
}

// Run watches o until ctx ends, calling fn after each burst of changes; fn runs on Run's
// goroutine, never concurrently with itself, and changes during fn start the next burst.
// After each call the trees are scanned again, so directories created or replaced are
// watched. Run returns nil when ctx ends, or an error when the watcher cannot start.
func Run(ctx context.Context, o Options, fn func()) error {
	if o.Quiet <= 0 {
		o.Quiet = DefaultQuiet
	}
	if o.MaxDirs <= 0 {
		o.MaxDirs = DefaultMaxDirs
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("start watcher: %w", err)
	}
	defer w.Close()
	m := newMatcher(o)
	m.scan(w)

	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-w.Events:
			if !ok {
				return nil
			}
			if ev.Op == fsnotify.Chmod || !m.relevant(ev.Name) {
				continue
			}
			if ev.Has(fsnotify.Create) && m.inTree(ev.Name) {
				if fi, err := os.Stat(ev.Name); err == nil && fi.IsDir() {
					m.addTree(w, ev.Name)
				}
			}
			timer.Reset(o.Quiet)
		case err, ok := <-w.Errors:
			if !ok {
				return nil
			}
			o.Log.Warn("file watcher", "err", err)
		case <-timer.C:
			fn()
			m.scan(w)
		}
	}
}

// matcher knows which paths are watched and which changes count.
type matcher struct {
	o     Options
	trees []string        // cleaned absolute roots of Dirs
	files map[string]bool // cleaned absolute Files
	added map[string]bool // directories added to the watcher
}

func newMatcher(o Options) *matcher {
	m := &matcher{o: o, files: map[string]bool{}, added: map[string]bool{}}
	for _, d := range o.Dirs {
		m.trees = append(m.trees, abs(d))
	}
	for _, f := range o.Files {
		m.files[abs(f)] = true
	}
	return m
}

func abs(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return filepath.Clean(p)
}

// scan adds every directory to watch: each file's directory and each tree's directories.
// A directory that does not exist (yet) is skipped; the next scan tries again.
func (m *matcher) scan(w *fsnotify.Watcher) {
	for f := range m.files {
		m.add(w, filepath.Dir(f))
	}
	for _, t := range m.trees {
		m.addTree(w, t)
	}
}

// addTree adds root and its subdirectories (hidden ones skipped), within MaxDirs.
func (m *matcher) addTree(w *fsnotify.Watcher, root string) {
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil
		}
		if p != root && ignored(d.Name()) {
			return filepath.SkipDir
		}
		if !m.add(w, p) {
			return filepath.SkipAll
		}
		return nil
	})
}

// add watches dir; false when the bound is reached.
func (m *matcher) add(w *fsnotify.Watcher, dir string) bool {
	if m.added[dir] {
		// Watched already; re-adding is harmless and restores a watch on a directory
		// deleted and created again.
		_ = w.Add(dir)
		return true
	}
	if len(m.added) >= m.o.MaxDirs {
		m.o.Log.Warn("file watcher: not watching "+dir, "err", ErrTooManyDirs, "max", m.o.MaxDirs)
		return false
	}
	if err := w.Add(dir); err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			m.o.Log.Warn("file watcher: cannot watch "+dir, "err", err)
		}
		return true
	}
	m.added[dir] = true
	return true
}

// inTree reports whether p is in one of the trees.
func (m *matcher) inTree(p string) bool {
	for _, t := range m.trees {
		if p == t || strings.HasPrefix(p, t+string(filepath.Separator)) {
			return true
		}
	}
	return false
}

// relevant reports whether a change to p counts: a watched file (or its directory's
// "..data" link), or a file in a tree that is not hidden, a swap file or a backup.
func (m *matcher) relevant(p string) bool {
	p = filepath.Clean(p)
	if m.files[p] {
		return true
	}
	if filepath.Base(p) == "..data" {
		for f := range m.files {
			if filepath.Dir(f) == filepath.Dir(p) {
				return true
			}
		}
	}
	return m.inTree(p) && !ignored(filepath.Base(p))
}

// ignored reports whether name is an editor's or a tool's temporary file: hidden (.x.swp,
// .#x), a backup (x~, x.bak), a swap file, or vim's write test "4913".
func ignored(name string) bool {
	switch {
	case strings.HasPrefix(name, "."), strings.HasSuffix(name, "~"), name == "4913":
		return true
	}
	switch filepath.Ext(name) {
	case ".swp", ".swx", ".swo", ".tmp", ".bak", ".orig", ".rej", ".dpkg-new", ".dpkg-old":
		return true
	}
	return false
}
