package fsstore

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"testing"

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
	if mode == "loop" { // a kill finds several recordings in progress, and maybe a commit
		return storetest.HelperDeposits(s, mbox, 4, 0, true)
	}
	return storetest.HelperDeposits(s, mbox, 1, n, false)
}

// helperCmd starts the test binary as a helper process.
func helperCmd(t *testing.T, args string) (*exec.Cmd, *bufio.Scanner) {
	return storetest.HelperCmd(t, helperEnv, args)
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
