package fsstore

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sidecar-voip/sidecar/voicemail"
	"github.com/sidecar-voip/sidecar/voicemail/storetest"
)

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
	storetest.Until(t, ch, voicemail.Counts{})
	m := storetest.Deposit(t, other, "1001", voicemail.Envelope{}, time.Second)
	storetest.Until(t, ch, voicemail.Counts{New: 1})
	os.Remove(filepath.Join(dir, "1001", "INBOX", msgName(m.ID)+".txt"))
	storetest.Until(t, ch, voicemail.Counts{})
	// The whole mailbox removed and made again by a deposit elsewhere.
	if err := os.RemoveAll(filepath.Join(dir, "1001")); err != nil {
		t.Fatal(err)
	}
	storetest.Deposit(t, other, "1001", voicemail.Envelope{}, time.Second)
	storetest.Until(t, ch, voicemail.Counts{New: 1})
	storetest.Deposit(t, other, "1001", voicemail.Envelope{}, time.Second)
	storetest.Until(t, ch, voicemail.Counts{New: 2})
}
