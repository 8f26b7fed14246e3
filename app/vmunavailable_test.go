package app_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo"

	"github.com/sidecar-voip/sidecar/app"
	"github.com/sidecar-voip/sidecar/voicemail"
	"github.com/sidecar-voip/sidecar/voicemail/fsstore"
)

// downStore is a mailbox store whose every operation fails with voicemail.ErrUnavailable
// while down is set, as voicemail/pgstore's do while PostgreSQL is down.
type downStore struct {
	voicemail.Store
	down atomic.Bool
}

func (d *downStore) err() error {
	if d.down.Load() {
		return fmt.Errorf("test store: %w", voicemail.ErrUnavailable)
	}
	return nil
}

func (d *downStore) Count(ctx context.Context, mb string, f voicemail.Folder) (int, error) {
	if err := d.err(); err != nil {
		return 0, err
	}
	return d.Store.Count(ctx, mb, f)
}

func (d *downStore) Counts(ctx context.Context, mb string) (voicemail.Counts, error) {
	if err := d.err(); err != nil {
		return voicemail.Counts{}, err
	}
	return d.Store.Counts(ctx, mb)
}

func (d *downStore) List(ctx context.Context, mb string, f voicemail.Folder) ([]voicemail.Message, error) {
	if err := d.err(); err != nil {
		return nil, err
	}
	return d.Store.List(ctx, mb, f)
}

func (d *downStore) Deposit(ctx context.Context, mb string, env voicemail.Envelope, l voicemail.Limits) (voicemail.Recording, error) {
	if err := d.err(); err != nil {
		return nil, err
	}
	return d.Store.Deposit(ctx, mb, env, l)
}

func (d *downStore) Greeting(ctx context.Context, mb string, g voicemail.Greeting) (voicemail.Audio, error) {
	if err := d.err(); err != nil {
		return nil, err
	}
	return d.Store.Greeting(ctx, mb, g)
}

// startDownVM is startVM over a downStore (down from the start) with the given fallback.
func startDownVM(t *testing.T, fallback app.VoicemailFallback) (*vmEnv, *downStore) {
	t.Helper()
	fs, err := fsstore.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fs.Close() })
	store := &downStore{Store: fs}
	store.down.Store(true)
	opts := app.DefaultVoicemailOptions()
	opts.KeyTimeout, opts.FailDelay, opts.Unavailable = 3*time.Second, 100*time.Millisecond, fallback
	stats := new(app.VoicemailStats)
	sc := startSidecarWith(t, nil, vmTemplates, vmDialplan, app.Deps{Voicemail: store, VoicemailOptions: &opts, VoicemailStats: stats})
	return &vmEnv{sidecar: sc, store: fs, stats: stats, u: newUAC(t)}, store
}

// The default fallback: the call is answered, vm-unavailable plays, the sidecar hangs up; the
// store back, the next call deposits as usual (nothing to restart).
func TestVoiceMailStoreUnavailablePrompt(t *testing.T) {
	e, store := startDownVM(t, app.UnavailablePrompt)
	if def := app.DefaultVoicemailOptions().Unavailable; def != app.UnavailablePrompt {
		t.Fatalf("default fallback %v, want prompt", def)
	}
	start := time.Now()
	e.u.answered(e.sidecar, "dep")
	e.u.waitPrompt()
	if !e.u.waitBye(10 * time.Second) {
		t.Fatal("no BYE after vm-unavailable")
	}
	if d := time.Since(start); d > 8*time.Second {
		t.Errorf("the fallback took %v", d)
	}
	if n, f := e.stats.Unavailable.Load(), e.stats.Deposits.Load(); n != 1 || f != 0 {
		t.Errorf("Unavailable %d, Deposits %d; want 1 and 0", n, f)
	}

	store.down.Store(false)
	u := newUAC(t)
	_, media := u.answered(e.sidecar, "dep")
	u.waitPrompt()
	u.quiet(400 * time.Millisecond)
	u.sendAudio(media, signal(8000))
	u.digits(media, "#")
	e.waitLog(t, "vmstatus=SUCCESS")
	if msgs, _ := e.stored(t, "1001", voicemail.Inbox); len(msgs) != 1 {
		t.Fatalf("%d messages after the store came back, want 1", len(msgs))
	}
}

// unavailable = 503: the call is refused before it is answered, without Retry-After (which
// would make Kamailio's failure_route mark the sidecar down for every service).
func TestVoiceMailStoreUnavailable503(t *testing.T) {
	e, _ := startDownVM(t, app.Unavailable503)
	_, err := e.u.call(e.sidecar, "dep", e.u.sdp("0"))
	var re *sipgo.ErrDialogResponse
	if !errors.As(err, &re) {
		t.Fatalf("want a 503, got %v", err)
	}
	if re.Res.StatusCode != 503 || re.Res.Reason != "Voicemail Unavailable" || re.Res.GetHeader("Retry-After") != nil {
		t.Fatalf("answer %d %q, Retry-After %v; want 503 Voicemail Unavailable without Retry-After",
			re.Res.StatusCode, re.Res.Reason, re.Res.GetHeader("Retry-After"))
	}
	if n := e.stats.Unavailable.Load(); n != 1 {
		t.Errorf("Unavailable = %d, want 1", n)
	}
}

// VoiceMailMain says so before asking for the PIN, and hangs up.
func TestVoiceMailMainStoreUnavailable(t *testing.T) {
	e, _ := startDownVM(t, app.Unavailable503) // the 503 is VoiceMail's only
	e.u.answered(e.sidecar, "main", mainHeaders()...)
	e.u.waitPrompt()
	if !e.u.waitBye(10 * time.Second) {
		t.Fatal("no BYE after vm-unavailable")
	}
	if n, l := e.stats.Unavailable.Load(), e.stats.Logins.Load(); n != 1 || l != 0 {
		t.Errorf("Unavailable %d, Logins %d; want 1 and 0", n, l)
	}
	e.checkNoPIN(t)
}
