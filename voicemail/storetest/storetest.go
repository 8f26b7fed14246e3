// Package storetest is the conformance suite of voicemail.Store: every implementation
// (voicemail/fsstore, voicemail/pgstore) runs the same tests through Run, so the VoiceMail
// applications and MWI see the same behaviour whichever store serves them. Tests of what only
// one implementation has (files, crash recovery, database outages) stay in its package.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/sidecar-voip/sidecar/app/wav"
	"github.com/sidecar-voip/sidecar/voicemail"
)

// NewStorage makes an empty backing storage for one test and returns a function that opens a
// Store on it; each call opens another Store on the same storage, as a second process or
// sidecar would. The Stores are closed at the test's cleanup by NewStorage's implementation.
type NewStorage func(t *testing.T) (open func() voicemail.Store)

// Run runs the suite.
func Run(t *testing.T, newStorage NewStorage) {
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, func() voicemail.Store)
	}{
		{"DepositListOpen", testDepositListOpen},
		{"ReadMoveDelete", testReadMoveDelete},
		{"OpenSurvivesDelete", testOpenSurvivesDelete},
		{"Limits", testLimits},
		{"G722StoredAsPCM", testG722},
		{"Greetings", testGreetings},
		{"ConcurrentDepositsTwoStores", testConcurrentDeposits},
		{"DepositDuringRetrieval", testDepositDuringRetrieval},
		{"WatchSameStore", testWatchSameStore},
		{"WatchOtherStore", testWatchOtherStore},
		{"WatchOneSlot", testWatchOneSlot},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newStorage(t)) })
	}
}

var ctx = context.Background()

// Tone is n bytes of G.711 payload whose content depends on seed.
func Tone(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = seed + byte(i)
	}
	return b
}

// Deposit records d of G.711 payload (pcmu unless env.Codec says) and commits it.
func Deposit(t testing.TB, s voicemail.Store, mbox string, env voicemail.Envelope, d time.Duration) voicemail.Message {
	t.Helper()
	if env.Codec == "" {
		env.Codec = "pcmu"
	}
	rec, err := s.Deposit(ctx, mbox, env, voicemail.DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Discard()
	if err := rec.WritePayload(Tone(int(d*8000/time.Second), 1)); err != nil {
		t.Fatal(err)
	}
	m, err := rec.Commit()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// CheckAudio reads an Audio fully, closes it, and checks it is a complete WAV file.
func CheckAudio(t testing.TB, a voicemail.Audio) (wav.Info, []byte) {
	t.Helper()
	defer a.Close()
	b, err := io.ReadAll(a)
	if err != nil {
		t.Fatal(err)
	}
	info, err := wav.ReadInfo(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	if info.DataOffset+info.DataSize > int64(len(b)) {
		t.Fatalf("data chunk past the end")
	}
	return info, b
}

// AllMessages lists every message of a mailbox by number, failing on a duplicate.
func AllMessages(t testing.TB, s voicemail.Store, mbox string) map[uint64]voicemail.Message {
	t.Helper()
	ids := map[uint64]voicemail.Message{}
	for _, f := range voicemail.Folders {
		msgs, err := s.List(ctx, mbox, f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			if _, dup := ids[m.ID]; dup {
				t.Fatalf("message %d listed twice", m.ID)
			}
			ids[m.ID] = m
		}
	}
	return ids
}

// Next waits for the next counts (the deadline only guards against a hang).
func Next(t testing.TB, ch <-chan voicemail.Counts) voicemail.Counts {
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

// Until reads counts until they equal want.
func Until(t testing.TB, ch <-chan voicemail.Counts, want voicemail.Counts) {
	t.Helper()
	for {
		if c := Next(t, ch); c == want {
			return
		}
	}
}

func testDepositListOpen(t *testing.T, open func() voicemail.Store) {
	s := open()
	when := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	m := Deposit(t, s, "1001@default", voicemail.Envelope{CallerID: "sip:2002@x", CallerName: "Ann", Time: when}, 1500*time.Millisecond)
	if m.ID != 1 || m.Folder != voicemail.Inbox || m.Duration != 1500*time.Millisecond || m.Codec != "pcmu" || len(m.UID) != 32 {
		t.Fatalf("committed %+v", m)
	}
	m2 := Deposit(t, s, "1001@default", voicemail.Envelope{Codec: "pcma", Urgent: true}, time.Second)
	if m2.ID != 2 || m2.Folder != voicemail.Urgent {
		t.Fatalf("second %+v", m2)
	}
	msgs, err := s.List(ctx, "1001@default", voicemail.Inbox)
	if err != nil || len(msgs) != 1 || msgs[0] != m {
		t.Fatalf("list %+v %v, want %+v", msgs, err, m)
	}
	got, a, err := s.Open(ctx, "1001@default", 1)
	if err != nil || got != m || !got.Time.Equal(when) {
		t.Fatalf("open %+v %v", got, err)
	}
	if info, _ := CheckAudio(t, a); info.Encoding != wav.MuLaw || info.Rate != 8000 || info.Samples() != 12000 {
		t.Fatalf("audio %+v", info)
	}
	_, a, _ = s.Open(ctx, "1001@default", 2)
	if info, _ := CheckAudio(t, a); info.Encoding != wav.ALaw {
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
	if _, _, err := s.Open(ctx, "nobody", 1); !errors.Is(err, voicemail.ErrNotFound) {
		t.Fatalf("open in unknown mailbox: %v", err)
	}
	if _, err := s.List(ctx, "1001@default", "Trash"); !errors.Is(err, voicemail.ErrFolder) {
		t.Fatalf("list unknown folder: %v", err)
	}
}

func testReadMoveDelete(t *testing.T, open func() voicemail.Store) {
	s := open()
	const mb = "1001"
	a := Deposit(t, s, mb, voicemail.Envelope{}, time.Second)
	u := Deposit(t, s, mb, voicemail.Envelope{Urgent: true}, time.Second)
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
	if _, err := s.Move(ctx, mb, 99, voicemail.Work, 10); !errors.Is(err, voicemail.ErrNotFound) {
		t.Fatalf("move missing: %v", err)
	}
	if _, err := s.MarkRead(ctx, mb, 99); !errors.Is(err, voicemail.ErrNotFound) {
		t.Fatalf("mark missing read: %v", err)
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
	if m := Deposit(t, s, mb, voicemail.Envelope{}, time.Second); m.ID != 3 {
		t.Fatalf("next number %d, want 3", m.ID)
	}
}

func testOpenSurvivesDelete(t *testing.T, open func() voicemail.Store) {
	s := open()
	m := Deposit(t, s, "1001", voicemail.Envelope{}, time.Second)
	_, a, err := s.Open(ctx, "1001", m.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "1001", m.ID); err != nil {
		t.Fatal(err)
	}
	if info, _ := CheckAudio(t, a); info.Samples() != 8000 {
		t.Fatalf("audio after delete: %+v", info)
	}
}

func testLimits(t *testing.T, open func() voicemail.Store) {
	s := open()
	lim := voicemail.Limits{MaxMessages: 2, MaxDuration: time.Second, MinDuration: 500 * time.Millisecond}
	rec := func() voicemail.Recording {
		r, err := s.Deposit(ctx, "1001", voicemail.Envelope{Codec: "pcmu"}, lim)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	short := rec()
	short.WritePayload(Tone(3000, 0))
	if _, err := short.Commit(); !errors.Is(err, voicemail.ErrTooShort) {
		t.Fatalf("short: %v", err)
	}
	if _, err := short.Commit(); !errors.Is(err, voicemail.ErrClosed) {
		t.Fatalf("commit twice: %v", err)
	}
	long := rec()
	if err := long.WritePayload(Tone(6000, 0)); err != nil {
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
	r1.WritePayload(Tone(8000, 0))
	r2.WritePayload(Tone(8000, 0))
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
	// A discarded recording leaves nothing.
	d, err := s.Deposit(ctx, "1003", voicemail.Envelope{Codec: "pcmu"}, voicemail.DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	d.WritePayload(Tone(8000, 0))
	d.Discard()
	if ids := AllMessages(t, s, "1003"); len(ids) != 0 {
		t.Fatalf("discarded recording stored: %+v", ids)
	}
}

func testG722(t *testing.T, open func() voicemail.Store) {
	s := open()
	r, err := s.Deposit(ctx, "1001", voicemail.Envelope{Codec: "G722"}, voicemail.DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	if err := r.WritePayload([]byte{1, 2}); !errors.Is(err, voicemail.ErrFormat) {
		t.Fatalf("raw G.722: %v", err)
	}
	if r.SampleRate() != 16000 {
		t.Fatalf("rate %d", r.SampleRate())
	}
	r.WritePCM(make([]int16, 16000))
	m, err := r.Commit()
	if err != nil || m.Duration != time.Second || m.Codec != "g722" {
		t.Fatalf("%+v %v", m, err)
	}
	_, a, _ := s.Open(ctx, "1001", m.ID)
	if info, _ := CheckAudio(t, a); info.Encoding != wav.PCM16 || info.Rate != 16000 || info.Samples() != 16000 {
		t.Fatalf("%+v", info)
	}
	if _, err := s.Deposit(ctx, "1001", voicemail.Envelope{Codec: "opus"}, voicemail.DefaultLimits()); !errors.Is(err, voicemail.ErrFormat) {
		t.Fatalf("opus: %v", err)
	}
	if _, err := s.Deposit(ctx, "../etc", voicemail.Envelope{Codec: "pcmu"}, voicemail.DefaultLimits()); !errors.Is(err, voicemail.ErrMailbox) {
		t.Fatalf("bad mailbox: %v", err)
	}
}

func testGreetings(t *testing.T, open func() voicemail.Store) {
	s := open()
	if _, err := s.Greeting(ctx, "1001", voicemail.Busy); !errors.Is(err, voicemail.ErrNotFound) {
		t.Fatalf("no greeting: %v", err)
	}
	for i, n := range []int{8000, 16000} {
		r, err := s.PutGreeting(ctx, "1001", voicemail.Busy, "pcma", voicemail.DefaultLimits())
		if err != nil {
			t.Fatal(err)
		}
		r.WritePayload(Tone(n, byte(i)))
		if _, err := r.Commit(); err != nil {
			t.Fatal(err)
		}
		a, err := s.Greeting(ctx, "1001", voicemail.Busy)
		if err != nil {
			t.Fatal(err)
		}
		if info, _ := CheckAudio(t, a); info.Samples() != int64(n) || info.Encoding != wav.ALaw {
			t.Fatalf("greeting %d: %+v", i, info)
		}
	}
	r, _ := s.PutGreeting(ctx, "1001", voicemail.Name, "pcmu", voicemail.Limits{MaxGreeting: time.Second})
	if err := r.WritePayload(Tone(9000, 0)); !errors.Is(err, voicemail.ErrMaxDuration) {
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
	if err := s.DeleteGreeting(ctx, "1001", voicemail.Busy); err != nil {
		t.Fatalf("delete a missing greeting: %v", err)
	}
	if _, err := s.PutGreeting(ctx, "1001", "hello", "pcmu", voicemail.DefaultLimits()); !errors.Is(err, voicemail.ErrFolder) {
		t.Fatalf("unknown greeting: %v", err)
	}
	// Greetings are no messages.
	if c, _ := s.Counts(ctx, "1001"); c != (voicemail.Counts{}) {
		t.Fatalf("counts %+v", c)
	}
}

// 50 concurrent deposits split over two Stores on the same storage: 50 distinct numbers.
func testConcurrentDeposits(t *testing.T, open func() voicemail.Store) {
	stores := []voicemail.Store{open(), open()}
	const n = 50
	got := make(chan uint64, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			s := stores[i%2]
			rec, err := s.Deposit(ctx, "1001", voicemail.Envelope{CallerID: fmt.Sprint(i), Codec: "pcmu"}, voicemail.DefaultLimits())
			if err != nil {
				t.Error(err)
				return
			}
			rec.WritePayload(Tone(4000, byte(i)))
			m, err := rec.Commit()
			if err != nil {
				t.Error(err)
				return
			}
			got <- m.ID
		})
	}
	wg.Wait()
	close(got)
	seen := map[uint64]bool{}
	for id := range got {
		if seen[id] {
			t.Fatalf("number %d given twice", id)
		}
		seen[id] = true
	}
	if len(seen) != n {
		t.Fatalf("%d numbers for %d deposits", len(seen), n)
	}
	for _, s := range stores {
		if ids := AllMessages(t, s, "1001"); len(ids) != n {
			t.Fatalf("%d messages stored", len(ids))
		}
	}
}

// A retrieval's snapshot stays valid while deposits and moves go on.
func testDepositDuringRetrieval(t *testing.T, open func() voicemail.Store) {
	s := open()
	for range 5 {
		Deposit(t, s, "1001", voicemail.Envelope{}, time.Second)
	}
	snapshot, err := s.List(ctx, "1001", voicemail.Inbox)
	if err != nil || len(snapshot) != 5 {
		t.Fatalf("%d %v", len(snapshot), err)
	}
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			rec, err := s.Deposit(ctx, "1001", voicemail.Envelope{Codec: "pcmu"}, voicemail.DefaultLimits())
			if err != nil {
				t.Error(err)
				return
			}
			rec.WritePayload(Tone(8000, 9))
			if _, err := rec.Commit(); err != nil {
				t.Error(err)
			}
		})
	}
	for i, m := range snapshot {
		got, a, err := s.Open(ctx, "1001", m.ID)
		if err != nil || got.UID != m.UID {
			t.Fatalf("position %d: %+v %v", i, got, err)
		}
		CheckAudio(t, a)
		if _, err := s.MarkRead(ctx, "1001", m.ID); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	if c, _ := s.Counts(ctx, "1001"); c != (voicemail.Counts{New: 10, Old: 5}) {
		t.Fatalf("counts %+v", c)
	}
}

func testWatchSameStore(t *testing.T, open func() voicemail.Store) {
	s := open()
	Deposit(t, s, "1001", voicemail.Envelope{}, time.Second)
	wctx, cancel := context.WithCancel(ctx)
	ch, err := s.Watch(wctx, "1001")
	if err != nil {
		t.Fatal(err)
	}
	if c := Next(t, ch); c != (voicemail.Counts{New: 1}) {
		t.Fatalf("first counts %+v", c)
	}
	m := Deposit(t, s, "1001", voicemail.Envelope{Urgent: true}, time.Second)
	Until(t, ch, voicemail.Counts{New: 2, UrgentNew: 1})
	s.MarkRead(ctx, "1001", m.ID)
	Until(t, ch, voicemail.Counts{New: 1, Old: 1, UrgentOld: 1})
	cancel()
	for range ch { // closed once the context ends
	}
	if _, err := s.Watch(ctx, "a/b"); !errors.Is(err, voicemail.ErrMailbox) {
		t.Fatalf("watch a bad mailbox: %v", err)
	}
}

// Changes through a second Store on the same storage (a second sidecar) reach the first
// Store's watchers.
func testWatchOtherStore(t *testing.T, open func() voicemail.Store) {
	s, other := open(), open()
	ch, err := s.Watch(ctx, "1001")
	if err != nil {
		t.Fatal(err)
	}
	Until(t, ch, voicemail.Counts{})
	m := Deposit(t, other, "1001", voicemail.Envelope{}, time.Second)
	Until(t, ch, voicemail.Counts{New: 1})
	if _, err := other.MarkRead(ctx, "1001", m.ID); err != nil {
		t.Fatal(err)
	}
	Until(t, ch, voicemail.Counts{Old: 1})
	if err := other.Delete(ctx, "1001", m.ID); err != nil {
		t.Fatal(err)
	}
	Until(t, ch, voicemail.Counts{})
}

// The channel holds one value, the latest; closing the store closes it.
func testWatchOneSlot(t *testing.T, open func() voicemail.Store) {
	s := open()
	ch, err := s.Watch(ctx, "1001")
	if err != nil {
		t.Fatal(err)
	}
	if cap(ch) != 1 {
		t.Fatalf("channel capacity %d", cap(ch))
	}
	for range 5 {
		Deposit(t, s, "1001", voicemail.Envelope{}, time.Second)
	}
	// A Store's own changes are delivered before Commit returns: one value, the latest.
	if c := Next(t, ch); c != (voicemail.Counts{New: 5}) {
		t.Fatalf("counts %+v", c)
	}
	if len(ch) != 0 {
		t.Fatal("a backlog")
	}
	c, ok := s.(io.Closer)
	if !ok {
		return
	}
	c.Close()
	for range ch {
	}
	if _, err := s.Watch(ctx, "1001"); err == nil {
		t.Fatal("watch on a closed store")
	}
}
