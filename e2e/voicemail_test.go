package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The seeds of the audio the voicemail tests send and compare against.
const (
	messageSeed   = 42
	unrelatedSeed = 4242
	// bobPIN is bob's mailbox PIN in the shipped subscriber table (examples/kamailio/db).
	bobPIN     = "4321"
	bobMailbox = "2000"
)

// messages returns the committed messages (envelope files) of mailbox in folder on any of the
// sidecars, as paths without extension.
func messages(dir string, sidecars []*sidecar, mailbox, folder string) []string {
	var out []string
	for _, s := range sidecars {
		files, _ := filepath.Glob(filepath.Join(dir, s.name+"-voicemail", mailbox, folder, "*.txt"))
		for _, f := range files {
			out = append(out, strings.TrimSuffix(f, ".txt"))
		}
	}
	return out
}

// waitLog waits up to d for text in the log at path.
func waitLog(t *testing.T, path, text string, d time.Duration) {
	t.Helper()
	err := eventually(d, func() error {
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if !strings.Contains(string(b), text) {
			return fmt.Errorf("no %q in %s", text, filepath.Base(path))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// voicemailRoundTrip is the subscriber's voicemail end to end through Kamailio with real
// phones: bob's phone registers and SUBSCRIBEs for message-summary (0/0); alice calls bob, whose
// phone rings unanswered; Kamailio diverts the call to the pool, the sidecar holding bob's
// mailbox answers with VoiceMail and alice's phone plays a distinctive signal as the message.
// The stored message must be that signal (envelope cross-correlation, with a negative
// control), not just audio of some length, and bob's phone gets Voice-Message 1/0. Then bob
// dials *97, enters his PIN, plays the message (his phone must hear it), deletes it with 7:
// the mailbox is empty and bob's phone gets 0/0.
func voicemailRoundTrip(t *testing.T, dir string, k *kamailio, sc [2]*sidecar) {
	sidecars := sc[:]
	sent := burstSignal(messageSeed, 24)
	writeSignal(t, filepath.Join(dir, "alice-says.wav"), sent)
	writeSignal(t, filepath.Join(dir, "bob-says.wav"), make([]int16, 8000*120))

	if n := len(messages(dir, sidecars, bobMailbox, "*")); n != 0 {
		t.Fatalf("bob's mailbox holds %d messages before the test", n)
	}

	// The deposit: alice's phone plays its WAV into the call and hangs up when it ends.
	alice := startPhone(t, dir, "alice-phone", filepath.Join(dir, "alice-says.wav"), false)
	alice.addAccount(t, k, "alice", "alice-secret", ";answermode=auto")
	// bob's phone registers, subscribes to its message summary (the SUBSCRIBE goes to the
	// sidecar holding mailbox 2000) and does not answer calls.
	bob := startPhone(t, dir, "bob-phone", filepath.Join(dir, "bob-says.wav"), true)
	bobFrom := bob.mark()
	bob.addAccount(t, k, "bob", "bob-secret", ";answermode=manual;mwi=yes")
	t.Logf("bob's phone: %q", bob.waitMWI(t, bobFrom, "Voice-Message: 0/0", 30*time.Second))

	from := alice.mark()
	bobFrom = bob.mark()
	alice.cmd(t, "dial", "sip:bob@"+domain)
	bob.waitEvent(t, bobFrom, "CALL_INCOMING", 20*time.Second)
	alice.waitEvent(t, from, "CALL_ESTABLISHED", 20*time.Second)
	alice.waitEvent(t, from, "CALL_CLOSED", 60*time.Second)
	waitLog(t, k.log, "diverted to voicemail (no-answer)", 5*time.Second)

	var msg string
	err := eventually(10*time.Second, func() error {
		m := messages(dir, sidecars, bobMailbox, "INBOX")
		if len(m) != 1 {
			return fmt.Errorf("bob's INBOX holds %d messages after alice's call, want 1", len(m))
		}
		msg = m[0]
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	stored, err := readSignal(msg + ".wav")
	if err != nil {
		t.Fatalf("the stored message: %v", err)
	}
	secs := float64(len(stored)) / 8000
	if secs < 5 {
		t.Fatalf("the stored message lasts %.1f s of alice's 24 s signal", secs)
	}
	c, lag := bestCorrelation(stored, sent, 0.8)
	t.Logf("stored message: %.1f s, correlation %.3f with alice's signal at %d ms", secs, c, lag*envelopeMs)
	if c < 0.8 {
		t.Errorf("the stored message correlates %.3f with what alice's phone sent, want >= 0.8", c)
	}
	if u, _ := bestCorrelation(stored, burstSignal(unrelatedSeed, 24), 0.8); u > 0.5 {
		t.Errorf("negative control: the stored message correlates %.3f with unrelated audio, want < 0.5", u)
	} else {
		t.Logf("negative control: %.3f with unrelated audio", u)
	}
	holder := sidecars[0]
	if !strings.HasPrefix(msg, filepath.Join(dir, holder.name+"-voicemail")) {
		holder = sidecars[1]
	}

	t.Logf("bob's phone: %q", bob.waitMWI(t, bobFrom, "Voice-Message: 1/0", 30*time.Second))

	// The retrieval: bob dials *97 and drives the menu with RFC 4733 digits.
	from = bob.mark()
	bob.cmd(t, "dial", "sip:*97@"+domain)
	bob.waitEvent(t, from, "CALL_ESTABLISHED", 20*time.Second)
	// The PIN prompt is playing once bob hears audio.
	err = eventually(15*time.Second, func() error {
		s, err := bob.audio("dec")
		if err != nil {
			return err
		}
		if loudFrames(s) < 10 {
			return fmt.Errorf("bob hears no prompt after *97")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	bob.keys(t, bobPIN+"#")
	waitLog(t, holder.log, `msg="VoiceMailMain: login" `, 20*time.Second)
	bob.keys(t, "1")
	// A message heard to its end moves to Old.
	err = eventually(60*time.Second, func() error {
		if m := messages(dir, sidecars, bobMailbox, "Old"); len(m) != 1 {
			return fmt.Errorf("the message did not move to Old after bob pressed 1 (Old: %v)", m)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	mwiFrom := bob.mark()
	bob.keys(t, "7")
	err = eventually(15*time.Second, func() error {
		if m := messages(dir, sidecars, bobMailbox, "*"); len(m) != 0 {
			return fmt.Errorf("bob pressed 7 and the mailbox still holds %v", m)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("bob's phone: %q", bob.waitMWI(t, mwiFrom, "Voice-Message: 0/0", 30*time.Second))
	bob.keys(t, "#")
	bob.waitEvent(t, from, "CALL_CLOSED", 20*time.Second)

	heard, err := bob.audio("dec")
	if err != nil {
		t.Fatal(err)
	}
	h, lag := bestCorrelation(stored, heard, 0.8)
	t.Logf("bob heard %.1f s; the message correlates %.3f at %d ms", float64(len(heard))/8000, h, lag*envelopeMs)
	if h < 0.8 {
		t.Errorf("bob's phone did not hear the message: correlation %.3f, want >= 0.8", h)
	}
	if wavs, _ := filepath.Glob(filepath.Join(filepath.Dir(filepath.Dir(msg)), "*", "*.wav")); len(wavs) != 0 {
		t.Errorf("the deleted message left audio behind: %v", wavs)
	}
}
