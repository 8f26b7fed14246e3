package pgstore

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sidecar-voip/sidecar/internal/pgtest"
	"github.com/sidecar-voip/sidecar/voicemail"
	"github.com/sidecar-voip/sidecar/voicemail/storetest"
)

// lockedBuffer is a log destination safe for concurrent writers.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// PostgreSQL stopped for a few seconds under use: every operation fails fast with
// ErrUnavailable, watchers keep their last counts, the outage is logged once and counted;
// started again, operations and watches recover without reopening the store.
func TestOutage(t *testing.T) {
	pg := pgtest.Start(t)
	url := pg.NewDatabase(t)
	var logs lockedBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	const opTimeout = 2 * time.Second
	a := open(t, url, Options{Log: log, OpTimeout: opTimeout})
	b := open(t, url, Options{Log: log, OpTimeout: opTimeout, MaxBackoff: 500 * time.Millisecond})
	m := storetest.Deposit(t, a, "1001", voicemail.Envelope{}, time.Second)
	ch, err := b.Watch(ctx, "1001")
	if err != nil {
		t.Fatal(err)
	}
	storetest.Until(t, ch, voicemail.Counts{New: 1})
	waitListening(t, b)
	select { // the resync after the first connect may repeat the counts
	case <-ch:
	default:
	}
	// A recording started before the outage, committed during it.
	rec, err := a.Deposit(ctx, "1001", voicemail.Envelope{Codec: "pcmu"}, voicemail.DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	rec.WritePayload(storetest.Tone(8000, 0))

	pg.Stop(t)
	ops := map[string]func(s *Store) error{
		"counts": func(s *Store) error { _, err := s.Counts(ctx, "1001"); return err },
		"list":   func(s *Store) error { _, err := s.List(ctx, "1001", voicemail.Inbox); return err },
		"open":   func(s *Store) error { _, _, err := s.Open(ctx, "1001", m.ID); return err },
		"deposit": func(s *Store) error {
			_, err := s.Deposit(ctx, "1001", voicemail.Envelope{Codec: "pcmu"}, voicemail.DefaultLimits())
			return err
		},
		"markread": func(s *Store) error {
			_, err := s.MarkRead(ctx, "1001", m.ID)
			return err
		},
		"delete":   func(s *Store) error { return s.Delete(ctx, "1001", m.ID) },
		"greeting": func(s *Store) error { _, err := s.Greeting(ctx, "1001", voicemail.Busy); return err },
		"commit":   func(s *Store) error { _, err := rec.Commit(); return err },
	}
	for round := range 3 {
		for name, op := range ops {
			if round > 0 && name == "commit" {
				continue
			}
			start := time.Now()
			err := op(a)
			if d := time.Since(start); d > opTimeout+time.Second {
				t.Errorf("%s took %v with the database down", name, d)
			}
			if !errors.Is(err, voicemail.ErrUnavailable) {
				t.Fatalf("%s with the database down: %v", name, err)
			}
		}
	}
	// A watch keeps its last value: nothing arrives, the channel stays open.
	select {
	case c, ok := <-ch:
		t.Fatalf("watch during the outage: %+v %v", c, ok)
	default:
	}
	if st := a.Stats(); !st.Down || st.Outages != 1 || st.Unavailable < 3*7 {
		t.Fatalf("stats during the outage %+v", st)
	}
	// Held down a few seconds: B's listener retries under its backoff meanwhile.
	time.Sleep(3 * time.Second)
	pg.Start(t)

	// Operations resume on the same Store; the failed commit left nothing.
	var c voicemail.Counts
	deadline := time.Now().Add(15 * time.Second)
	for {
		if c, err = a.Counts(ctx, "1001"); err == nil {
			break
		}
		if !errors.Is(err, voicemail.ErrUnavailable) || time.Now().After(deadline) {
			t.Fatalf("after the restart: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if c != (voicemail.Counts{New: 1}) {
		t.Fatalf("counts after the outage %+v", c)
	}
	storetest.Deposit(t, a, "1001", voicemail.Envelope{}, time.Second)
	storetest.Until(t, ch, voicemail.Counts{New: 2})
	if st := a.Stats(); st.Down || st.Outages != 1 {
		t.Fatalf("stats after the outage %+v", st)
	}
	if st := b.Stats(); st.ListenConnects < 2 {
		t.Fatalf("listener did not reconnect: %+v", st)
	}
	// Logged once per store per outage (a and b share the log), and its end once.
	out := logs.String()
	if n := strings.Count(out, "operations fail until it is back"); n != 2 {
		t.Fatalf("%d outage lines for 2 stores:\n%s", n, out)
	}
	if n := strings.Count(out, "voicemail store available again"); n != 2 {
		t.Fatalf("%d recovery lines for 2 stores:\n%s", n, out)
	}
	if strings.Contains(out, "password") {
		t.Fatal("a password in the log")
	}
}

// A store opened while PostgreSQL is down (a sidecar started during an outage): with
// Background, Open succeeds, operations fail fast with ErrUnavailable, the outage is logged
// once and counted; once the database is up the schema is migrated without a restart, a
// watch started during the outage gets its first counts, and operations resume. Without
// Background, Open stays strict.
func TestOpenDuringOutage(t *testing.T) {
	pg := pgtest.Start(t)
	url := pg.NewDatabase(t)
	pg.Stop(t)
	if s, err := Open(ctx, url, Options{OpTimeout: time.Second}); !errors.Is(err, voicemail.ErrUnavailable) {
		if s != nil {
			s.Close()
		}
		t.Fatalf("Open without Background, database down: %v", err)
	}
	var logs lockedBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	s := open(t, url, Options{Log: log, OpTimeout: time.Second, MaxBackoff: 300 * time.Millisecond, Background: true})
	if st := s.Stats(); !st.Down || st.Outages != 1 {
		t.Fatalf("stats after Open during the outage %+v", st)
	}
	ch, err := s.Watch(ctx, "1001")
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		start := time.Now()
		_, err := s.Counts(ctx, "1001")
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("Counts took %v with the database down", d)
		}
		if !errors.Is(err, voicemail.ErrUnavailable) {
			t.Fatalf("Counts with the database down: %v", err)
		}
	}
	if _, err := s.Deposit(ctx, "1001", voicemail.Envelope{Codec: "pcmu"}, voicemail.DefaultLimits()); !errors.Is(err, voicemail.ErrUnavailable) {
		t.Fatalf("Deposit with the database down: %v", err)
	}
	select {
	case c := <-ch:
		t.Fatalf("a watch got %+v with the database down", c)
	default:
	}

	pg.Start(t)
	storetest.Until(t, ch, voicemail.Counts{}) // the migrator's resync gives the first value
	if v, err := SchemaVersion(ctx, s.Pool()); err != nil || v == 0 {
		t.Fatalf("schema after the outage: version %d, %v", v, err)
	}
	storetest.Deposit(t, s, "1001", voicemail.Envelope{}, time.Second)
	storetest.Until(t, ch, voicemail.Counts{New: 1})
	if st := s.Stats(); st.Down || st.Outages != 1 || st.Unavailable < 4 {
		t.Fatalf("stats after the outage %+v", st)
	}
	out := logs.String()
	if strings.Count(out, "operations fail until it is back") != 1 || strings.Count(out, "voicemail store available again") != 1 {
		t.Fatalf("want one outage and one recovery line:\n%s", out)
	}
}
