package watch_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sidecar-voip/sidecar/internal/watch"
)

// An edit of a watched file, of a file in a tree, and of a file in a directory created
// after the start each call fn; so does a settings file replaced by rename, as editors do.
func TestRunCallsOnChange(t *testing.T) {
	root := t.TempDir()
	tree := filepath.Join(root, "templates")
	ini := filepath.Join(root, "sidecar.ini")
	mustWrite(t, ini, "[general]\n")
	mustWrite(t, filepath.Join(tree, "t.conf"), "[t]\n")

	calls := make(chan struct{}, 16)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- watch.Run(ctx, watch.Options{Dirs: []string{tree}, Files: []string{ini}, Quiet: 20 * time.Millisecond},
			func() { calls <- struct{}{} })
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	// Run watches once it has scanned; keep touching the file until the first call comes.
	waitCall(t, calls, func() { mustWrite(t, filepath.Join(tree, "t.conf"), "[t]\n;x\n") })

	waitCall(t, calls, func() {
		mustWrite(t, ini+".new", "[general]\nlog-level = debug\n")
		if err := os.Rename(ini+".new", ini); err != nil {
			t.Fatal(err)
		}
	})

	sub := filepath.Join(tree, "sub")
	waitCall(t, calls, func() { os.MkdirAll(sub, 0o755) })
	waitCall(t, calls, func() { mustWrite(t, filepath.Join(sub, "inc.conf"), "[u]\n") })
}

// waitCall does change (again, if the watcher was not ready yet) until fn is called.
func waitCall(t *testing.T, calls <-chan struct{}, change func()) {
	t.Helper()
	drain(calls)
	change()
	deadline := time.After(10 * time.Second)
	retry := time.NewTicker(500 * time.Millisecond)
	defer retry.Stop()
	for {
		select {
		case <-calls:
			return
		case <-retry.C:
			change()
		case <-deadline:
			t.Fatal("no call after the change")
		}
	}
}

func drain(c <-chan struct{}) {
	for {
		select {
		case <-c:
		default:
			return
		}
	}
}

func mustWrite(t *testing.T, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}
