package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sidecar-voip/sidecar/app/wav"
	"github.com/sidecar-voip/sidecar/internal/reliability"
	"github.com/sidecar-voip/sidecar/rtp/codec/g711"
	"github.com/sidecar-voip/sidecar/voicemail"
	"github.com/sidecar-voip/sidecar/voicemail/fsstore"
)

// crashMailbox is the mailbox the kill -9 test deposits into (bob's in the shipped tables).
const crashMailbox = bobMailbox

// depositCalls returns a SIPp run of n voicemail deposits from 127.0.0.1 straight to the
// sidecar, all at once, each streaming caller.ulaw of the run folder for holdMs after the
// answer.
func depositCalls(name, scenario string, n, holdMs int) *sipp {
	return &sipp{name: name, scenario: scenario, ip: kamIP, calls: n, rate: n, holdMs: holdMs,
		extra: []string{"-l", fmt.Sprint(n + 5), "-timeout", "150s"},
		keys: map[string]string{"user": "alice", "callee": "bob", "domain": domain,
			"mailbox": crashMailbox}}
}

// inProgress counts the recordings in progress in a mailbox of a store directory (its .tmp
// files) that hold at least minBytes of audio.
func inProgress(vmdir, mailbox string, minBytes int64) int {
	files, _ := filepath.Glob(filepath.Join(vmdir, mailbox, ".tmp", "*"))
	n := 0
	for _, f := range files {
		if fi, err := os.Stat(f); err == nil && fi.Size() >= minBytes {
			n++
		}
	}
	return n
}

// checkStore opens the store (which removes what a crashed writer left) and checks that no
// partial message is visible: every listed message's envelope is complete and its WAV parses,
// is as long as the envelope says and holds the caller's audio; no temporary file and no
// audio without an envelope remain. It returns the UIDs of the messages in INBOX.
func checkStore(t *testing.T, vmdir, mailbox string) []string {
	t.Helper()
	s, err := fsstore.Open(vmdir)
	if err != nil {
		t.Fatalf("open the store after the crash: %v", err)
	}
	defer s.Close()
	ctx := context.Background()
	var uids []string
	for _, f := range voicemail.Folders {
		msgs, err := s.List(ctx, mailbox, f)
		if err != nil {
			t.Fatalf("list %s/%s: %v", mailbox, f, err)
		}
		for _, m := range msgs {
			if m.UID == "" || m.Time.IsZero() || m.Duration <= 0 || m.Codec == "" || m.CallerID == "" {
				t.Errorf("message %d in %s has an incomplete envelope: %+v", m.ID, f, m)
			}
			_, a, err := s.Open(ctx, mailbox, m.ID)
			if err != nil {
				t.Errorf("open message %d: %v", m.ID, err)
				continue
			}
			b, err := os.ReadFile(filepath.Join(vmdir, mailbox, string(f), fmt.Sprintf("%010d.wav", m.ID)))
			a.Close()
			if err != nil {
				t.Errorf("read message %d: %v", m.ID, err)
				continue
			}
			pcm, rate, err := wav.Decode(b)
			if err != nil {
				t.Errorf("message %d does not parse: %v", m.ID, err)
				continue
			}
			got := time.Duration(len(pcm)) * time.Second / time.Duration(rate)
			if d := got - m.Duration; d < -50*time.Millisecond || d > 50*time.Millisecond {
				t.Errorf("message %d holds %v of audio, its envelope says %v", m.ID, got, m.Duration)
			}
			if loud := loudFrames(wav.Resample(pcm, rate, 8000)); loud < 25 {
				t.Errorf("message %d holds %d loud 20 ms frames: not the caller's audio", m.ID, loud)
			}
			if f == voicemail.Inbox {
				uids = append(uids, m.UID)
			}
		}
	}
	for _, pattern := range []string{".tmp/*", "*/*.wav"} {
		files, _ := filepath.Glob(filepath.Join(vmdir, mailbox, pattern))
		for _, f := range files {
			if strings.HasSuffix(f, ".wav") && filepath.Base(filepath.Dir(f)) != "greetings" {
				if _, err := os.Stat(strings.TrimSuffix(f, ".wav") + ".txt"); err == nil {
					continue
				}
				t.Errorf("audio without an envelope after open: %s", f)
				continue
			}
			if !strings.HasSuffix(f, ".wav") {
				t.Errorf("temporary file left after open: %s", f)
			}
		}
	}
	return uids
}

// TestVoicemailKill9 kills a real `sidecar serve` (SIGKILL) while 20 callers are recording
// messages, restarts it on the same store and checks that no partial message is visible and
// that every message completed before the kill is there and plays. In the second run 5 more
// callers pressed # and had their messages stored while the 20 were recording.
func TestVoicemailKill9(t *testing.T) {
	requireE2E(t)
	for _, finished := range []int{0, 5} {
		t.Run(fmt.Sprintf("%d finished before the kill", finished), func(t *testing.T) {
			dir := newRunDir(t)
			vmdir := filepath.Join(dir, "voicemail")
			audio := filepath.Join(dir, "caller.ulaw")
			if err := os.WriteFile(audio, g711.Ulaw{}.Encode(nil, burstSignal(messageSeed, 10)), 0o644); err != nil {
				t.Fatal(err)
			}
			sc := startSidecarStore(t, dir, "sidecar", sidecar1, "", vmdir, 0, "")
			waitLog(t, sc.log, `msg="sip service listening"`, 15*time.Second)

			// 20 deposits that would last two minutes.
			long := depositCalls("deposits-killed", "vm_deposit.xml", 20, 120000)
			long.background(t, dir, sc.addr())
			var before []string
			if finished > 0 {
				// These press # after 14 s (the greeting lasts about 10): committed, then the
				// sidecar hangs up.
				short := depositCalls("deposits-finished", "vm_deposit_pound.xml", finished, 14000)
				if err := short.run(t, dir, sc.addr()); err != nil {
					t.Fatalf("the deposits ended with # did not complete: %v", err)
				}
				if b, _ := os.ReadFile(sc.log); strings.Count(string(b), " end=key") != finished {
					t.Fatalf("%d recordings ended by #, want %d", strings.Count(string(b), " end=key"), finished)
				}
				s, err := fsstore.Open(vmdir)
				if err != nil {
					t.Fatal(err)
				}
				msgs, err := s.List(context.Background(), crashMailbox, voicemail.Inbox)
				s.Close()
				if err != nil || len(msgs) != finished {
					t.Fatalf("%d messages stored by the callers who pressed #, want %d (%v)", len(msgs), finished, err)
				}
				for _, m := range msgs {
					before = append(before, m.UID)
				}
			}
			// Mid-recording: all 20 are past the beep and have audio on disk (2 s of µ-law).
			err := eventually(60*time.Second, func() error {
				if n := inProgress(vmdir, crashMailbox, 16000); n != 20 {
					return fmt.Errorf("%d of 20 recordings in progress with 2 s of audio", n)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if err := sc.signal(syscall.SIGKILL); err != nil {
				t.Fatalf("kill -9 the sidecar: %v", err)
			}
			if ok, _ := sc.wait(10 * time.Second); !ok {
				t.Fatalf("the sidecar survived SIGKILL")
			}
			long.proc.stop(t)
			if n := inProgress(vmdir, crashMailbox, 0); n < 20 {
				t.Fatalf("only %d recordings' temporary files after the kill: the kill was not mid-recording", n)
			}

			// The restarted sidecar opens the store (and cleans it) at start.
			re := startSidecarStore(t, dir, "sidecar-restarted", sidecar1, "", vmdir, 0, "")
			waitLog(t, re.log, `msg="sip service listening"`, 15*time.Second)
			after := checkStore(t, vmdir, crashMailbox)
			if len(after) != finished {
				t.Errorf("%d messages after the restart, want the %d completed before the kill", len(after), finished)
			}
			for _, uid := range before {
				if !strings.Contains(strings.Join(after, " "), uid) {
					t.Errorf("message %s, stored before the kill, is gone after the restart", uid)
				}
			}
			if finished > 0 && !t.Failed() {
				reliability.Log(t, reliability.Row{
					Test:   "e2e TestVoicemailKill9",
					Thrown: fmt.Sprintf("kill -9 of a running sidecar serve while 20 SIPp callers recorded voicemail (2 s of audio each on disk) and after %d deposits ended by #; restarted on the same store", finished),
					Did:    fmt.Sprintf("the restarted sidecar removed the 20 partial recordings at start; the %d committed messages listed, each complete (envelope, WAV as long as it says, the caller's audio)", len(after)),
					Lost:   "nothing committed; only the 20 recordings in progress at the kill",
				})
			}
		})
	}
}

// rssKB is the resident set size of process pid in KiB.
func rssKB(t *testing.T, pid int) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatalf("read the sidecar's memory: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			var kb int
			fmt.Sscanf(strings.TrimSpace(v), "%d", &kb)
			return kb
		}
	}
	t.Fatalf("no VmRSS in /proc/%d/status", pid)
	return 0
}

// TestVoicemailDepositMemory measures a real sidecar's memory per recording: its resident
// size with 100 deposits recording at once (SIPp, straight to the sidecar) less its size
// after one deposit warmed it up, per call (BENCHMARKS.md). It fails above 1 MiB a call.
func TestVoicemailDepositMemory(t *testing.T) {
	requireE2E(t)
	const calls = 100
	dir := newRunDir(t)
	vmdir := filepath.Join(dir, "voicemail")
	if err := os.WriteFile(filepath.Join(dir, "caller.ulaw"), g711.Ulaw{}.Encode(nil, burstSignal(messageSeed, 10)), 0o644); err != nil {
		t.Fatal(err)
	}
	sc := startSidecarStore(t, dir, "sidecar", sidecar1, "", vmdir, 2*calls+20, "")
	waitLog(t, sc.log, `msg="sip service listening"`, 15*time.Second)
	warm := depositCalls("warm-up", "vm_deposit_pound.xml", 1, 14000)
	if err := warm.run(t, dir, sc.addr()); err != nil {
		t.Fatalf("warm-up deposit: %v", err)
	}
	idle := rssKB(t, sc.cmd.Process.Pid)
	load := depositCalls("deposits", "vm_deposit.xml", calls, 60000)
	load.extra = append(load.extra, "-r", "25")
	load.background(t, dir, sc.addr())
	err := eventually(120*time.Second, func() error {
		if n := inProgress(vmdir, crashMailbox, 16000); n != calls {
			return fmt.Errorf("%d of %d recordings in progress with 2 s of audio", n, calls)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	busy := rssKB(t, sc.cmd.Process.Pid)
	per := float64(busy-idle) / calls
	t.Logf("sidecar RSS: %d KiB after one deposit, %d KiB with %d recording: %.0f KiB a call", idle, busy, calls, per)
	if per > 1024 {
		t.Errorf("%.0f KiB of resident memory per recording call, want <= 1024", per)
	}
	load.proc.stop(t)
}
