package storetest

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sidecar-voip/sidecar/voicemail"
)

// HelperDeposits is the body of a helper process (the test binary run again, as another
// sidecar would be): workers goroutines deposit 1 s messages into mbox, n in all, or
// forever with loop, printing "committed ID" after each and, with loop, "writing" halfway
// through each recording. It returns the process's exit status.
func HelperDeposits(s voicemail.Store, mbox string, workers, n int, loop bool) int {
	// Output lines come from several goroutines: one writer under a lock.
	var mu sync.Mutex
	out := bufio.NewWriter(os.Stdout)
	say := func(a ...any) {
		mu.Lock()
		fmt.Fprintln(out, a...)
		out.Flush()
		mu.Unlock()
	}
	limits := voicemail.Limits{MaxMessages: 1 << 30}
	var left atomic.Int64
	left.Store(int64(n))
	var failed atomic.Bool
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for loop || left.Add(-1) >= 0 {
				rec, err := s.Deposit(ctx, mbox, voicemail.Envelope{CallerID: "helper", Codec: "pcmu"}, limits)
				if err != nil {
					fmt.Fprintln(os.Stderr, err)
					failed.Store(true)
					return
				}
				for j := range 50 { // 1 s of audio in 20 ms frames
					rec.WritePayload(Tone(160, byte(j)))
					if j == 25 && loop {
						say("writing")
					}
				}
				m, err := rec.Commit()
				if err != nil {
					fmt.Fprintln(os.Stderr, err)
					failed.Store(true)
					return
				}
				say("committed", m.ID)
			}
		})
	}
	wg.Wait()
	if failed.Load() {
		return 2
	}
	return 0
}

// HelperCmd starts the test binary as a helper process, with env set to args (its TestMain
// then runs the helper instead of the tests); it is killed at the test's cleanup.
func HelperCmd(t testing.TB, env, args string) (*exec.Cmd, *bufio.Scanner) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), env+"="+args)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd, bufio.NewScanner(out)
}

// Committed collects a helper's "committed ID" lines until it exits.
func Committed(cmd *exec.Cmd, sc *bufio.Scanner) <-chan []uint64 {
	ch := make(chan []uint64, 1)
	go func() {
		var ids []uint64
		for sc.Scan() {
			var id uint64
			if _, err := fmt.Sscanf(sc.Text(), "committed %d", &id); err == nil {
				ids = append(ids, id)
			}
		}
		cmd.Wait()
		ch <- ids
	}()
	return ch
}

// DepositsAcrossProcesses deposits n messages into mbox at once, spread over stores, while
// helper processes deposit theirs (their Committed channels), and checks that no number was
// given twice and that want messages are stored in all.
func DepositsAcrossProcesses(t *testing.T, stores []voicemail.Store, mbox string, n int, helpers []<-chan []uint64, want int) {
	t.Helper()
	var mine []uint64
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			rec, err := stores[i%len(stores)].Deposit(ctx, mbox, voicemail.Envelope{Codec: "pcmu"}, voicemail.Limits{MaxMessages: 1000})
			if err != nil {
				t.Error(err)
				return
			}
			rec.WritePayload(Tone(800, 0))
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
	lists := [][]uint64{mine}
	for _, h := range helpers {
		lists = append(lists, <-h)
	}
	for _, ids := range lists {
		for _, id := range ids {
			if all[id] {
				t.Fatalf("number %d given twice", id)
			}
			all[id] = true
		}
	}
	if len(all) != want {
		t.Fatalf("%d numbers for %d deposits", len(all), want)
	}
	if ids := AllMessages(t, stores[len(stores)-1], mbox); len(ids) != want {
		t.Fatalf("%d messages stored", len(ids))
	}
}

// CheckAfterKill checks a mailbox after a helper depositing into it was killed: every
// committed message is there, and every stored one is complete (1 s of audio that parses).
// It returns what is stored.
func CheckAfterKill(t testing.TB, s voicemail.Store, mbox string, committed map[uint64]bool) map[uint64]voicemail.Message {
	t.Helper()
	ids := AllMessages(t, s, mbox)
	for id := range committed {
		if _, ok := ids[id]; !ok {
			t.Fatalf("committed message %d lost", id)
		}
	}
	for id, m := range ids {
		_, a, err := s.Open(ctx, mbox, id)
		if err != nil {
			t.Fatal(err)
		}
		if info, _ := CheckAudio(t, a); info.Samples() != 8000 || m.Duration != time.Second {
			t.Fatalf("message %d: %+v, %v", id, info, m.Duration)
		}
	}
	return ids
}
