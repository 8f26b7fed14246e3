package pgstore

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"testing"

	"github.com/sidecar-voip/sidecar/internal/pgtest"
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
	return storetest.HelperDeposits(s, mbox, 5, n, mode == "loop")
}

// helperCmd starts the test binary as a helper process.
func helperCmd(t *testing.T, args string) (*exec.Cmd, *bufio.Scanner) {
	return storetest.HelperCmd(t, helperEnv, args)
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
