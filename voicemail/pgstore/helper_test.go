package pgstore

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/sidecar-voip/sidecar/internal/pgtest"
	"github.com/sidecar-voip/sidecar/voicemail"
	"github.com/sidecar-voip/sidecar/voicemail/storetest"
)

var ctx = context.Background()

// helperEnv makes the test binary a helper process (another sidecar) instead of running
// tests: "deposit URL MAILBOX N" deposits N messages from 5 goroutines and prints "committed
// ID" after each; "loop URL MAILBOX" deposits forever, printing "writing" once a recording is
// half written.
const helperEnv = "PGSTORE_TEST_HELPER"

func TestMain(m *testing.M) {
	if args := os.Getenv(helperEnv); args != "" {
		os.Exit(helper(args))
	}
	os.Exit(m.Run())
}

func helper(args string) int {
	var mode, url, mbox string
	var n int
	fmt.Sscan(args, &mode, &url, &mbox, &n)
	s, err := Open(context.Background(), url, Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
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
	for range 5 {
		wg.Go(func() {
			for mode == "loop" || left.Add(-1) >= 0 {
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

// open opens a Store on url, closed at cleanup.
func open(t testing.TB, url string, opts Options) *Store {
	t.Helper()
	s, err := Open(ctx, url, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// server is the PostgreSQL of TestPostgres's subtests.
func server(t *testing.T) *pgtest.Server { return pgtest.Start(t) }
