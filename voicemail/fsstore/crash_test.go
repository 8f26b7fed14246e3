package fsstore

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sidecar-voip/sidecar/internal/reliability"
	"github.com/sidecar-voip/sidecar/voicemail"
	"github.com/sidecar-voip/sidecar/voicemail/storetest"
)

// A process depositing in a loop is killed with SIGKILL while writing: afterwards only
// complete messages are visible, each one parses, and recovery removes the leftovers.
func TestKill9DuringDeposits(t *testing.T) {
	dir := t.TempDir()
	ever := map[uint64]bool{} // numbers committed in any round: never handed out again
	for round := range 3 {
		cmd, sc := helperCmd(t, fmt.Sprintf("loop %s 1001", dir))
		committed := map[uint64]bool{}
		writing := 0
		for sc.Scan() {
			var id uint64
			if _, err := fmt.Sscanf(sc.Text(), "committed %d", &id); err == nil {
				if ever[id] {
					t.Fatalf("round %d: number %d handed out twice", round, id)
				}
				ever[id] = true
				committed[id] = true
			} else if sc.Text() == "writing" {
				writing++
			}
			if writing > 3+round && len(committed) > 2 && sc.Text() == "writing" {
				break // killed halfway through a recording
			}
		}
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		cmd.Wait()
		tmp, _ := os.ReadDir(filepath.Join(dir, "1001", ".tmp"))
		if len(tmp) == 0 {
			t.Fatalf("round %d: no recording in progress at the kill", round)
		}
		s := open(t, dir)
		storetest.CheckAfterKill(t, s, "1001", committed)
		assertNoTemp(t, dir, "1001")
	}
	reliability.Log(t, reliability.Row{
		Test:   "voicemail/fsstore TestKill9DuringDeposits",
		Thrown: "SIGKILL to a process depositing messages in a loop, halfway through a recording, 3 rounds",
		Did:    fmt.Sprintf("%d committed messages kept, each complete (1 s of audio, parses); the partial recording removed at the next open; no number reused", len(ever)),
		Lost:   "nothing committed; only the recording in progress at the kill",
	})
}

// The states a crash can leave between two renames, made by hand, are repaired at Open.
func TestRecoverPartialStates(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	kept := storetest.Deposit(t, s, "1001", voicemail.Envelope{}, time.Second)
	moved := storetest.Deposit(t, s, "1001", voicemail.Envelope{}, time.Second)
	orphan := storetest.Deposit(t, s, "1001", voicemail.Envelope{}, time.Second)
	noAudio := storetest.Deposit(t, s, "1001", voicemail.Envelope{}, time.Second)
	inbox := filepath.Join(dir, "1001", "INBOX")
	// A move cut after its first rename: audio in Old, envelope still in INBOX.
	os.Rename(filepath.Join(inbox, msgName(moved.ID)+".wav"), filepath.Join(dir, "1001", "Old", msgName(moved.ID)+".wav"))
	// A deposit cut between its renames: audio without envelope.
	os.Remove(filepath.Join(inbox, msgName(orphan.ID)+".txt"))
	// An operator removed an audio file.
	os.Remove(filepath.Join(inbox, msgName(noAudio.ID)+".wav"))
	// A temporary file whose writer died.
	os.WriteFile(filepath.Join(dir, "1001", ".tmp", "dead.wav"), []byte("RIFF"), 0o640)

	s2 := open(t, dir)
	ids := storetest.AllMessages(t, s2, "1001")
	if len(ids) != 2 || ids[kept.ID].Folder != voicemail.Inbox || ids[moved.ID].Folder != voicemail.Old {
		t.Fatalf("after recovery: %+v", ids)
	}
	assertNoTemp(t, dir, "1001")
	for _, id := range []uint64{orphan.ID, noAudio.ID} {
		for _, ext := range []string{".wav", ".txt"} {
			if _, err := os.Stat(filepath.Join(inbox, msgName(id)+ext)); err == nil {
				t.Errorf("%d%s left", id, ext)
			}
		}
	}
	// A recording in progress in this process survives another Store's recovery.
	rec, err := s2.Deposit(ctx, "1001", voicemail.Envelope{Codec: "pcmu"}, voicemail.DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	rec.WritePayload(storetest.Tone(8000, 0))
	open(t, dir)
	if m, err := rec.Commit(); err != nil || m.ID != noAudio.ID+1 {
		t.Fatalf("commit after another store's recovery: %+v %v", m, err)
	}
}
