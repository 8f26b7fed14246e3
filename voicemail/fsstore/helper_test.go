package fsstore

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/sidecar-voip/sidecar/voicemail"
	"github.com/sidecar-voip/sidecar/voicemail/storetest"
)

// helperEnv makes the test binary a helper process (TestMain) instead of running tests:
// "loop DIR MAILBOX" deposits messages forever, printing "committed ID" after each and
// "writing" once a deposit is half written; "deposit DIR MAILBOX N" deposits N and exits.
const helperEnv = "FSSTORE_TEST_HELPER"

func TestMain(m *testing.M) {
	if args := os.Getenv(helperEnv); args != "" {
		os.Exit(helper(args))
	}
	os.Exit(m.Run())
}

func helper(args string) int {
	var mode, dir, mbox string
	var n int
	fmt.Sscan(args, &mode, &dir, &mbox, &n)
	s, err := Open(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
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
	workers := 1
	if mode == "loop" {
		workers = 4 // a kill finds several recordings in progress, and maybe a commit
	}
	var failed atomic.Bool
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := 0; mode == "loop" || i < n; i++ {
				rec, err := s.Deposit(context.Background(), mbox, voicemail.Envelope{CallerID: "helper", Codec: "pcmu"}, limits)
				if err != nil {
					fmt.Fprintln(os.Stderr, err)
					failed.Store(true)
					return
				}
				for j := range 50 { // 1 s of audio in 20 ms frames
					rec.WritePayload(storetest.Tone(160, byte(j)))
					if j == 25 && mode == "loop" {
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

// helperCmd starts the test binary as a helper process.
func helperCmd(t *testing.T, args string) (*exec.Cmd, *bufio.Scanner) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+args)
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

func open(t testing.TB, dir string) *Store {
	t.Helper()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
