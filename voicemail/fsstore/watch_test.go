package fsstore

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sidecar-voip/sidecar/voicemail"
	"github.com/sidecar-voip/sidecar/voicemail/storetest"
)

// next waits for the next counts (the deadline only guards against a hang).
func next(t *testing.T, ch <-chan voicemail.Counts) voicemail.Counts {
	t.Helper()
	select {
	case c, ok := <-ch:
		if !ok {
			t.Fatal("watch channel closed")
		}
		return c
	case <-time.After(10 * time.Second):
		t.Fatal("no counts within 10 s")
	}
	return voicemail.Counts{}
}

// until reads counts until they equal want.
func until(t *testing.T, ch <-chan voicemail.Counts, want voicemail.Counts) {
	t.Helper()
	for {
		if c := next(t, ch); c == want {
			return
		}
	}
}

func TestWatchSameStore(t *testing.T) {
	s := open(t, t.TempDir())
	storetest.Deposit(t, s, "1001", voicemail.Envelope{}, time.Second)
	wctx, cancel := context.WithCancel(ctx)
	ch, err := s.Watch(wctx, "1001")
	if err != nil {
		t.Fatal(err)
	}
	if c := next(t, ch); c != (voicemail.Counts{New: 1}) {
		t.Fatalf("first counts %+v", c)
	}
	m := storetest.Deposit(t, s, "1001", voicemail.Envelope{Urgent: true}, time.Second)
	until(t, ch, voicemail.Counts{New: 2, UrgentNew: 1})
	s.MarkRead(ctx, "1001", m.ID)
	until(t, ch, voicemail.Counts{New: 1, Old: 1, UrgentOld: 1})
	cancel()
	for range ch { // closed once the context ends
	}
}

// A second store on the same directory (as a second sidecar would be) and an operator
// removing files: both reach the first store's watchers through inotify.
func TestWatchOtherWriters(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	other := open(t, dir)
	ch, err := s.Watch(ctx, "1001")
	if err != nil {
		t.Fatal(err)
	}
	until(t, ch, voicemail.Counts{})
	m := storetest.Deposit(t, other, "1001", voicemail.Envelope{}, time.Second)
	until(t, ch, voicemail.Counts{New: 1})
	os.Remove(filepath.Join(dir, "1001", "INBOX", msgName(m.ID)+".txt"))
	until(t, ch, voicemail.Counts{})
	// The whole mailbox removed and made again by a deposit elsewhere.
	if err := os.RemoveAll(filepath.Join(dir, "1001")); err != nil {
		t.Fatal(err)
	}
	storetest.Deposit(t, other, "1001", voicemail.Envelope{}, time.Second)
	until(t, ch, voicemail.Counts{New: 1})
	storetest.Deposit(t, other, "1001", voicemail.Envelope{}, time.Second)
	until(t, ch, voicemail.Counts{New: 2})
}

func TestWatchSlowReaderSeesLatest(t *testing.T) {
	s := open(t, t.TempDir())
	ch, err := s.Watch(ctx, "1001")
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		storetest.Deposit(t, s, "1001", voicemail.Envelope{}, time.Second)
	}
	// In-process changes are delivered before Commit returns: one value, the latest.
	if c := next(t, ch); c != (voicemail.Counts{New: 5}) {
		t.Fatalf("counts %+v", c)
	}
	if len(ch) != 0 {
		t.Fatal("a backlog")
	}
	s.Close()
	for range ch {
	}
	if _, err := s.Watch(ctx, "1001"); err == nil {
		t.Fatal("watch on a closed store")
	}
}
