package sipsvc

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/sidecar-voip/sidecar/config"
)

// TestBLFQuietTargetSuspended: a presence target that does not answer is suspended (its
// events dropped and counted, the warning logged once), probed by one event after the
// suspension, suspended twice as long after a silent probe, and resumed by an answer; other
// targets are never affected.
func TestBLFQuietTargetSuspended(t *testing.T) {
	var logs bytes.Buffer
	b := &blfService{s: &Server{log: slog.New(slog.NewTextHandler(&logs, nil))},
		cfg: config.Presence{MaxPublications: 10}, quiet: map[string]*blfQuiet{}}
	const dest, other = "127.0.0.1:5060", "127.0.0.1:5070"
	t0 := time.Unix(1000, 0)
	if !b.admitQuiet(dest, t0) {
		t.Fatal("an unknown target refused")
	}
	b.unanswered(dest, t0)
	if b.nQuiet.Load() != 1 {
		t.Fatalf("nQuiet %d after a silent target, want 1", b.nQuiet.Load())
	}
	if b.admitQuiet(dest, t0.Add(time.Second)) || !b.stillQuiet(dest, t0.Add(2*time.Second)) {
		t.Error("a suspended target's events not dropped")
	}
	if !b.admitQuiet(other, t0.Add(time.Second)) {
		t.Error("another target suspended")
	}
	if got := b.suspended.Load(); got != 2 {
		t.Errorf("suspended counter %d, want 2", got)
	}
	// The suspension is over: one probe goes, the next event waits for its outcome.
	probe := t0.Add(blfSuspendMin)
	if !b.admitQuiet(dest, probe) {
		t.Fatal("no probe after the suspension")
	}
	if b.admitQuiet(dest, probe) {
		t.Error("a second event admitted while the probe is on its way")
	}
	if b.stillQuiet(dest, probe) {
		t.Error("the queued probe itself dropped")
	}
	// A silent probe doubles the suspension.
	b.unanswered(dest, probe)
	if b.admitQuiet(dest, probe.Add(2*blfSuspendMin-time.Second)) {
		t.Error("admitted before the doubled suspension ended")
	}
	if !b.admitQuiet(dest, probe.Add(2*blfSuspendMin)) {
		t.Error("no probe after the doubled suspension")
	}
	// An answer resumes publishing at once.
	b.answered(dest)
	if b.nQuiet.Load() != 0 || !b.admitQuiet(dest, probe.Add(2*blfSuspendMin)) || !b.admitQuiet(dest, probe.Add(2*blfSuspendMin)) {
		t.Error("an answering target still suspended")
	}
	if n := strings.Count(logs.String(), "does not answer PUBLISH"); n != 1 {
		t.Errorf("suspension warned %d times, want once:\n%s", n, logs.String())
	}
	if !strings.Contains(logs.String(), "publishing resumed") {
		t.Errorf("resumption not logged:\n%s", logs.String())
	}
}

// TestBLFSuspensionCapped: the suspension doubles up to blfSuspendMax and no further.
func TestBLFSuspensionCapped(t *testing.T) {
	b := &blfService{s: &Server{log: slog.New(slog.DiscardHandler)},
		cfg: config.Presence{MaxPublications: 10}, quiet: map[string]*blfQuiet{}}
	now := time.Unix(1000, 0)
	for range 20 {
		b.unanswered("d", now)
	}
	if got := b.quiet["d"].backoff; got != blfSuspendMax {
		t.Errorf("backoff %v after 20 silent probes, want %v", got, blfSuspendMax)
	}
}
