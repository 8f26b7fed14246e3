package fsstore

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sidecar-voip/sidecar/app/wav"
	"github.com/sidecar-voip/sidecar/voicemail"
	"github.com/sidecar-voip/sidecar/voicemail/storetest"
)

var ctx = context.Background()

func TestDepositListOpen(t *testing.T) {
	s := open(t, t.TempDir())
	when := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	m := storetest.Deposit(t, s, "1001@default", voicemail.Envelope{CallerID: "sip:2002@x", CallerName: "Ann", Time: when}, 1500*time.Millisecond)
	if m.ID != 1 || m.Folder != voicemail.Inbox || m.Duration != 1500*time.Millisecond || m.Codec != "pcmu" || len(m.UID) != 32 {
		t.Fatalf("committed %+v", m)
	}
	m2 := storetest.Deposit(t, s, "1001@default", voicemail.Envelope{Codec: "pcma", Urgent: true}, time.Second)
	if m2.ID != 2 || m2.Folder != voicemail.Urgent {
		t.Fatalf("second %+v", m2)
	}
	msgs, err := s.List(ctx, "1001@default", voicemail.Inbox)
	if err != nil || len(msgs) != 1 || msgs[0] != m {
		t.Fatalf("list %+v %v", msgs, err)
	}
	got, a, err := s.Open(ctx, "1001@default", 1)
	if err != nil || got != m || !got.Time.Equal(when) {
		t.Fatalf("open %+v %v", got, err)
	}
	if info, _ := storetest.CheckAudio(t, a); info.Encoding != wav.MuLaw || info.Rate != 8000 || info.Samples() != 12000 {
		t.Fatalf("audio %+v", info)
	}
	_, a, _ = s.Open(ctx, "1001@default", 2)
	if info, _ := storetest.CheckAudio(t, a); info.Encoding != wav.ALaw {
		t.Fatalf("audio %+v", info)
	}
	c, err := s.Counts(ctx, "1001@default")
	if err != nil || c != (voicemail.Counts{New: 2, UrgentNew: 1}) {
		t.Fatalf("counts %+v %v", c, err)
	}
	if c, err := s.Counts(ctx, "nobody"); err != nil || c != (voicemail.Counts{}) {
		t.Fatalf("unknown mailbox: %+v %v", c, err)
	}
	if _, _, err := s.Open(ctx, "1001@default", 3); !errors.Is(err, voicemail.ErrNotFound) {
		t.Fatalf("open missing: %v", err)
	}
}

func TestReadMoveDelete(t *testing.T) {
	s := open(t, t.TempDir())
	const mb = "1001"
	a := storetest.Deposit(t, s, mb, voicemail.Envelope{}, time.Second)
	u := storetest.Deposit(t, s, mb, voicemail.Envelope{Urgent: true}, time.Second)
	if m, err := s.MarkRead(ctx, mb, a.ID); err != nil || m.Folder != voicemail.Old {
		t.Fatalf("mark read %+v %v", m, err)
	}
	if m, err := s.MarkRead(ctx, mb, u.ID); err != nil || m.Folder != voicemail.Old || !m.Urgent {
		t.Fatalf("mark read urgent %+v %v", m, err)
	}
	if c, _ := s.Counts(ctx, mb); c != (voicemail.Counts{Old: 2, UrgentOld: 1}) {
		t.Fatalf("counts %+v", c)
	}
	if m, err := s.MarkRead(ctx, mb, a.ID); err != nil || m.Folder != voicemail.Old {
		t.Fatalf("mark read twice %+v %v", m, err)
	}
	if m, err := s.Move(ctx, mb, a.ID, voicemail.Family, 100); err != nil || m.Folder != voicemail.Family || m.ID != a.ID {
		t.Fatalf("move %+v %v", m, err)
	}
	if _, err := s.Move(ctx, mb, u.ID, voicemail.Family, 1); !errors.Is(err, voicemail.ErrMailboxFull) {
		t.Fatalf("move into full folder: %v", err)
	}
	if _, err := s.Move(ctx, mb, u.ID, "Trash", 1); !errors.Is(err, voicemail.ErrFolder) {
		t.Fatalf("move into unknown folder: %v", err)
	}
	if got, _, err := s.Open(ctx, mb, a.ID); err != nil || got.Folder != voicemail.Family {
		t.Fatalf("open moved %+v %v", got, err)
	}
	if err := s.Delete(ctx, mb, a.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, mb, a.ID); !errors.Is(err, voicemail.ErrNotFound) {
		t.Fatalf("delete twice: %v", err)
	}
	if n, _ := s.Count(ctx, mb, voicemail.Family); n != 0 {
		t.Fatalf("family holds %d", n)
	}
	// Numbers are never reused, even after the highest is deleted.
	s.Delete(ctx, mb, u.ID)
	if m := storetest.Deposit(t, s, mb, voicemail.Envelope{}, time.Second); m.ID != 3 {
		t.Fatalf("next number %d, want 3", m.ID)
	}
}

func TestOpenSurvivesDelete(t *testing.T) {
	s := open(t, t.TempDir())
	m := storetest.Deposit(t, s, "1001", voicemail.Envelope{}, time.Second)
	_, a, err := s.Open(ctx, "1001", m.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "1001", m.ID); err != nil {
		t.Fatal(err)
	}
	if info, _ := storetest.CheckAudio(t, a); info.Samples() != 8000 {
		t.Fatalf("audio after delete: %+v", info)
	}
}

func TestLimits(t *testing.T) {
	s := open(t, t.TempDir())
	lim := voicemail.Limits{MaxMessages: 2, MaxDuration: time.Second, MinDuration: 500 * time.Millisecond}
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
	if _, err := short.Commit(); !errors.Is(err, voicemail.ErrClosed) {
		t.Fatalf("commit twice: %v", err)
	}
	long := rec()
	if err := long.WritePayload(storetest.Tone(6000, 0)); err != nil {
		t.Fatal(err)
	}
	if err := long.WritePCM(make([]int16, 4000)); !errors.Is(err, voicemail.ErrMaxDuration) {
		t.Fatalf("past maxsecs: %v", err)
	}
	if long.Duration() != time.Second {
		t.Fatalf("duration %v", long.Duration())
	}
	if m, err := long.Commit(); err != nil || m.Duration != time.Second {
		t.Fatalf("long %+v %v", m, err)
	}
	// Two recordings started while there is room for one: the second commit is refused.
	r1, r2 := rec(), rec()
	r1.WritePayload(storetest.Tone(8000, 0))
	r2.WritePayload(storetest.Tone(8000, 0))
	if _, err := r1.Commit(); err != nil {
		t.Fatal(err)
	}
	if _, err := r2.Commit(); !errors.Is(err, voicemail.ErrMailboxFull) {
		t.Fatalf("commit into full folder: %v", err)
	}
	if _, err := s.Deposit(ctx, "1001", voicemail.Envelope{Codec: "pcmu"}, lim); !errors.Is(err, voicemail.ErrMailboxFull) {
		t.Fatalf("deposit into full folder: %v", err)
	}
	if _, err := s.Deposit(ctx, "1002", voicemail.Envelope{Codec: "pcmu"}, voicemail.Limits{}); !errors.Is(err, voicemail.ErrMailboxFull) {
		t.Fatalf("greetings-only mailbox: %v", err)
	}
	assertNoTemp(t, s.Dir(), "1001")
}

func TestG722StoredAsPCM(t *testing.T) {
	s := open(t, t.TempDir())
	r, err := s.Deposit(ctx, "1001", voicemail.Envelope{Codec: "G722"}, voicemail.DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	if err := r.WritePayload([]byte{1, 2}); !errors.Is(err, voicemail.ErrFormat) {
		t.Fatalf("raw G.722: %v", err)
	}
	r.WritePCM(make([]int16, 16000))
	m, err := r.Commit()
	if err != nil || m.Duration != time.Second || m.Codec != "g722" {
		t.Fatalf("%+v %v", m, err)
	}
	_, a, _ := s.Open(ctx, "1001", m.ID)
	if info, _ := storetest.CheckAudio(t, a); info.Encoding != wav.PCM16 || info.Rate != 16000 || info.Samples() != 16000 {
		t.Fatalf("%+v", info)
	}
	if _, err := s.Deposit(ctx, "1001", voicemail.Envelope{Codec: "opus"}, voicemail.DefaultLimits()); !errors.Is(err, voicemail.ErrFormat) {
		t.Fatalf("opus: %v", err)
	}
	if _, err := s.Deposit(ctx, "../etc", voicemail.Envelope{Codec: "pcmu"}, voicemail.DefaultLimits()); !errors.Is(err, voicemail.ErrMailbox) {
		t.Fatalf("bad mailbox: %v", err)
	}
}

func TestGreetings(t *testing.T) {
	s := open(t, t.TempDir())
	if _, err := s.Greeting(ctx, "1001", voicemail.Busy); !errors.Is(err, voicemail.ErrNotFound) {
		t.Fatalf("no greeting: %v", err)
	}
	for i, n := range []int{8000, 16000} {
		r, err := s.PutGreeting(ctx, "1001", voicemail.Busy, "pcma", voicemail.DefaultLimits())
		if err != nil {
			t.Fatal(err)
		}
		r.WritePayload(storetest.Tone(n, byte(i)))
		if _, err := r.Commit(); err != nil {
			t.Fatal(err)
		}
		a, err := s.Greeting(ctx, "1001", voicemail.Busy)
		if err != nil {
			t.Fatal(err)
		}
		if info, _ := storetest.CheckAudio(t, a); info.Samples() != int64(n) || info.Encoding != wav.ALaw {
			t.Fatalf("greeting %d: %+v", i, info)
		}
	}
	r, _ := s.PutGreeting(ctx, "1001", voicemail.Name, "pcmu", voicemail.Limits{MaxGreeting: time.Second})
	if err := r.WritePayload(storetest.Tone(9000, 0)); !errors.Is(err, voicemail.ErrMaxDuration) {
		t.Fatalf("greeting past maxgreet: %v", err)
	}
	r.Discard()
	if _, err := s.Greeting(ctx, "1001", voicemail.Name); !errors.Is(err, voicemail.ErrNotFound) {
		t.Fatalf("discarded greeting: %v", err)
	}
	if err := s.DeleteGreeting(ctx, "1001", voicemail.Busy); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Greeting(ctx, "1001", voicemail.Busy); !errors.Is(err, voicemail.ErrNotFound) {
		t.Fatalf("deleted greeting: %v", err)
	}
	if _, err := s.PutGreeting(ctx, "1001", "hello", "pcmu", voicemail.DefaultLimits()); !errors.Is(err, voicemail.ErrFolder) {
		t.Fatalf("unknown greeting: %v", err)
	}
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
	if ids := allIDs(t, s, "1001"); len(ids) != 5 {
		t.Fatalf("%d messages", len(ids))
	}
}
