package fsstore

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/sidecar-voip/sidecar/voicemail"
	"github.com/sidecar-voip/sidecar/voicemail/storetest"
)

// allIDs lists every message number in a mailbox, failing on a duplicate.
func allIDs(t *testing.T, s *Store, mbox string) map[uint64]voicemail.Message {
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

func TestConcurrentDeposits(t *testing.T) {
	s := open(t, t.TempDir())
	const n = 50
	got := make(chan uint64, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			rec, err := s.Deposit(ctx, "1001", voicemail.Envelope{CallerID: fmt.Sprint(i), Codec: "pcmu"}, voicemail.DefaultLimits())
			if err != nil {
				t.Error(err)
				return
			}
			rec.WritePayload(storetest.Tone(4000, byte(i)))
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
	if ids := allIDs(t, s, "1001"); len(ids) != n {
		t.Fatalf("%d messages stored", len(ids))
	}
}

// Deposits from two other processes and this one, at once, on the same directory.
func TestConcurrentDepositsAcrossProcesses(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	const each = 20
	var outs []chan []uint64
	for range 2 {
		cmd, sc := helperCmd(t, fmt.Sprintf("deposit %s 1001 %d", dir, each))
		ch := make(chan []uint64, 1)
		outs = append(outs, ch)
		go func() {
			var ids []uint64
			for sc.Scan() {
				var id uint64
				fmt.Sscanf(sc.Text(), "committed %d", &id)
				ids = append(ids, id)
			}
			cmd.Wait()
			ch <- ids
		}()
	}
	var mine []uint64
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range each {
		wg.Go(func() {
			rec, err := s.Deposit(ctx, "1001", voicemail.Envelope{Codec: "pcmu"}, voicemail.Limits{MaxMessages: 1000})
			if err != nil {
				t.Error(err)
				return
			}
			rec.WritePayload(storetest.Tone(800, 0))
			m, err := rec.Commit()
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			mine = append(mine, m.ID)
			mu.Unlock()
		})
	}
	wg.Wait()
	all := map[uint64]bool{}
	for _, ids := range append([][]uint64{mine}, <-outs[0], <-outs[1]) {
		for _, id := range ids {
			if all[id] {
				t.Fatalf("number %d given twice", id)
			}
			all[id] = true
		}
	}
	if len(all) != 3*each {
		t.Fatalf("%d numbers for %d deposits", len(all), 3*each)
	}
	if ids := allIDs(t, s, "1001"); len(ids) != 3*each {
		t.Fatalf("%d messages stored", len(ids))
	}
}

// A retrieval's snapshot stays valid while deposits and moves go on.
func TestDepositDuringRetrieval(t *testing.T) {
	s := open(t, t.TempDir())
	for range 5 {
		storetest.Deposit(t, s, "1001", voicemail.Envelope{}, time.Second)
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
			rec.WritePayload(storetest.Tone(8000, 9))
			if _, err := rec.Commit(); err != nil {
				t.Error(err)
			}
		})
	}
	for i, m := range snapshot { // play each message of the snapshot, marking it read
		got, a, err := s.Open(ctx, "1001", m.ID)
		if err != nil || got.UID != m.UID {
			t.Fatalf("position %d: %+v %v", i, got, err)
		}
		storetest.CheckAudio(t, a)
		if _, err := s.MarkRead(ctx, "1001", m.ID); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	if c, _ := s.Counts(ctx, "1001"); c != (voicemail.Counts{New: 10, Old: 5}) {
		t.Fatalf("counts %+v", c)
	}
}
