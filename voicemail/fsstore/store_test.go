package fsstore

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sidecar-voip/sidecar/voicemail"
	"github.com/sidecar-voip/sidecar/voicemail/storetest"
)

var ctx = context.Background()

// Every way a recording ends without a message (too short, refused by a folder filled
// meanwhile, discarded; a greeting replaced or discarded) leaves no temporary file and no
// audio without envelope. (The behaviour itself is the storetest suite's.)
func TestRecordingsLeaveNoTemp(t *testing.T) {
	s := open(t, t.TempDir())
	lim := voicemail.Limits{MaxMessages: 1, MaxDuration: time.Second, MinDuration: 500 * time.Millisecond}
	rec := func() voicemail.Recording {
		r, err := s.Deposit(ctx, "1001", voicemail.Envelope{Codec: "pcmu"}, lim)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	short := rec()
	short.WritePayload(storetest.Tone(3000, 0))
	if _, err := short.Commit(); !errors.Is(err, voicemail.ErrTooShort) {
		t.Fatalf("short: %v", err)
	}
	r1, r2, d := rec(), rec(), rec()
	r1.WritePayload(storetest.Tone(8000, 0))
	r2.WritePayload(storetest.Tone(8000, 0))
	d.WritePayload(storetest.Tone(8000, 0))
	if _, err := r1.Commit(); err != nil {
		t.Fatal(err)
	}
	if _, err := r2.Commit(); !errors.Is(err, voicemail.ErrMailboxFull) {
		t.Fatalf("commit into full folder: %v", err)
	}
	d.Discard()
	for range 2 {
		g, err := s.PutGreeting(ctx, "1001", voicemail.Busy, "pcma", voicemail.DefaultLimits())
		if err != nil {
			t.Fatal(err)
		}
		g.WritePayload(storetest.Tone(8000, 0))
		if _, err := g.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	g, _ := s.PutGreeting(ctx, "1001", voicemail.Name, "pcmu", voicemail.Limits{MaxGreeting: time.Second})
	g.WritePayload(storetest.Tone(9000, 0))
	g.Discard()
	assertNoTemp(t, s.Dir(), "1001")
}

// assertNoTemp checks a mailbox holds no temporary file and no audio without envelope.
func assertNoTemp(t *testing.T, dir, mbox string) {
	t.Helper()
	if ents, _ := os.ReadDir(filepath.Join(dir, mbox, ".tmp")); len(ents) != 0 {
		t.Errorf("%d temporary files left, first %s", len(ents), ents[0].Name())
	}
	for _, f := range voicemail.Folders {
		ents, _ := os.ReadDir(filepath.Join(dir, mbox, string(f)))
		for _, e := range ents {
			if id, ok := parseMsgName(e.Name(), ".wav"); ok {
				if _, err := os.Stat(filepath.Join(dir, mbox, string(f), msgName(id)+".txt")); err != nil {
					t.Errorf("%s/%s without envelope", f, e.Name())
				}
			}
		}
	}
}

// Numbering survives a lost counter and files an operator copied in.
func TestNumberingAfterCounterLoss(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	storetest.Deposit(t, s, "1001", voicemail.Envelope{}, time.Second)
	m := storetest.Deposit(t, s, "1001", voicemail.Envelope{}, time.Second)
	s.Move(ctx, "1001", m.ID, voicemail.Work, 100)
	os.Remove(filepath.Join(dir, "1001", ".next"))
	if got := storetest.Deposit(t, s, "1001", voicemail.Envelope{}, time.Second); got.ID != 3 {
		t.Fatalf("after losing .next: %d, want 3", got.ID)
	}
	// An operator copies message 3 in as 4 (and 5's audio alone): the next is 6.
	for _, ext := range []string{".wav", ".txt"} {
		b, _ := os.ReadFile(filepath.Join(dir, "1001", "INBOX", msgName(3)+ext))
		os.WriteFile(filepath.Join(dir, "1001", "Old", msgName(4)+ext), b, 0o640)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "1001", "INBOX", msgName(3)+".wav"))
	os.WriteFile(filepath.Join(dir, "1001", "INBOX", msgName(5)+".wav"), b, 0o640)
	if got := storetest.Deposit(t, s, "1001", voicemail.Envelope{}, time.Second); got.ID != 6 {
		t.Fatalf("past copied-in files: %d, want 6", got.ID)
	}
	if ids := storetest.AllMessages(t, s, "1001"); len(ids) != 5 {
		t.Fatalf("%d messages", len(ids))
	}
}
