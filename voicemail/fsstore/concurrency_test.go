package fsstore

import (
	"fmt"
	"testing"

	"github.com/sidecar-voip/sidecar/voicemail"
	"github.com/sidecar-voip/sidecar/voicemail/storetest"
)

// Deposits from two other processes and this one, at once, on the same directory.
func TestConcurrentDepositsAcrossProcesses(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	const each = 20
	var helpers []<-chan []uint64
	for range 2 {
		helpers = append(helpers, storetest.Committed(helperCmd(t, fmt.Sprintf("deposit %s 1001 %d", dir, each))))
	}
	storetest.DepositsAcrossProcesses(t, []voicemail.Store{s}, "1001", each, helpers, 3*each)
}
