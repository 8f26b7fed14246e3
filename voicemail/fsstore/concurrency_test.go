package fsstore

import (
	"fmt"
	"sync"
	"testing"

	"github.com/sidecar-voip/sidecar/voicemail"
	"github.com/sidecar-voip/sidecar/voicemail/storetest"
)

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
	if ids := storetest.AllMessages(t, s, "1001"); len(ids) != 3*each {
		t.Fatalf("%d messages stored", len(ids))
	}
}
