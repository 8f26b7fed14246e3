package pgstore

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/sidecar-voip/sidecar/voicemail"
	"github.com/sidecar-voip/sidecar/voicemail/storetest"
)

// TestPostgres runs everything that needs a database on one server, each subtest in a
// database of its own.
func TestPostgres(t *testing.T) {
	pg := server(t)
	t.Run("Conformance", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) func() voicemail.Store {
			url := pg.NewDatabase(t)
			return func() voicemail.Store { return open(t, url, Options{}) }
		})
	})
	t.Run("Migrate", func(t *testing.T) { testMigrate(t, pg.NewDatabase(t)) })
	t.Run("DepositsAcrossProcesses", func(t *testing.T) { testDepositsAcrossProcesses(t, pg.NewDatabase(t)) })
	t.Run("Kill9DuringDeposits", func(t *testing.T) { testKill9(t, pg.NewDatabase(t)) })
	t.Run("WatchAcrossStoresWithinASecond", func(t *testing.T) { testWatchLatency(t, pg.NewDatabase(t)) })
	t.Run("ListenerReconnectResyncs", func(t *testing.T) { testListenerReconnect(t, pg.NewDatabase(t)) })
}

// Two sidecars starting at once on an empty database: one migrates, the other waits on the
// advisory lock and finds the schema current; running again applies nothing.
func testMigrate(t *testing.T, url string) {
	ms, err := Migrations()
	if err != nil || len(ms) == 0 {
		t.Fatalf("%d migrations: %v", len(ms), err)
	}
	var wg sync.WaitGroup
	stores := make([]*Store, 4)
	for i := range stores {
		wg.Go(func() {
			s, err := Open(ctx, url, Options{})
			if err != nil {
				t.Error(err)
				return
			}
			stores[i] = s
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	for _, s := range stores {
		defer s.Close()
	}
	s := stores[0]
	if v, err := SchemaVersion(ctx, s.Pool()); err != nil || v != len(ms) {
		t.Fatalf("version %d %v, want %d", v, err, len(ms))
	}
	var rows int
	s.Pool().QueryRow(ctx, "SELECT count(*) FROM sidecar_schema_migrations").Scan(&rows)
	if rows != len(ms) {
		t.Fatalf("%d migration rows, want %d", rows, len(ms))
	}
	if applied, err := Migrate(ctx, s.Pool()); err != nil || len(applied) != 0 {
		t.Fatalf("second migrate applied %v: %v", applied, err)
	}
	// A database migrated by a newer sidecar is refused.
	if _, err := s.Pool().Exec(ctx, "INSERT INTO sidecar_schema_migrations (version, name) VALUES (999, 'future')"); err != nil {
		t.Fatal(err)
	}
	if _, err := Migrate(ctx, s.Pool()); err == nil {
		t.Fatal("migrated a database at a newer version")
	}
	if _, err := Open(ctx, url, Options{}); err == nil {
		t.Fatal("opened a database at a newer version")
	}
}

// 50 concurrent deposits: 10 on each of two Stores (two pools, as two sidecars) in this
// process, and 15 from each of two other processes: 50 distinct numbers, 50 messages.
func testDepositsAcrossProcesses(t *testing.T, url string) {
	open(t, url, Options{}) // migrate before the helpers start
	const each = 15
	var helpers []<-chan []uint64
	for range 2 {
		helpers = append(helpers, storetest.Committed(helperCmd(t, fmt.Sprintf("deposit %s 1001 %d", url, each))))
	}
	stores := []voicemail.Store{open(t, url, Options{}), open(t, url, Options{})}
	storetest.DepositsAcrossProcesses(t, stores, "1001", 20, helpers, 50)
}

// A process depositing from 5 goroutines is killed with SIGKILL while recording: every
// message it committed is there, complete, and nothing else is.
func testKill9(t *testing.T, url string) {
	s := open(t, url, Options{})
	ever := map[uint64]bool{}
	for round := range 2 {
		cmd, sc := helperCmd(t, fmt.Sprintf("loop %s 1001", url))
		writing := 0
		for sc.Scan() {
			var id uint64
			if _, err := fmt.Sscanf(sc.Text(), "committed %d", &id); err == nil {
				if ever[id] {
					t.Fatalf("round %d: number %d handed out twice", round, id)
				}
				ever[id] = true
			} else if sc.Text() == "writing" {
				writing++
			}
			if writing > 8 && len(ever) > 2*(round+1) && sc.Text() == "writing" {
				break
			}
		}
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		cmd.Wait()
		// A commit in flight at the kill may have landed without its line being read:
		// whatever is stored is complete, and counts as handed out.
		for id := range storetest.CheckAfterKill(t, s, "1001", ever) {
			ever[id] = true
		}
	}
}

// A deposit through Store A reaches a watcher on Store B (another pool, its own LISTEN
// connection) within a second: the promise for MWI across the pool.
func testWatchLatency(t *testing.T, url string) {
	a, b := open(t, url, Options{}), open(t, url, Options{})
	ch, err := b.Watch(ctx, "1001")
	if err != nil {
		t.Fatal(err)
	}
	storetest.Until(t, ch, voicemail.Counts{})
	waitListening(t, b)
	for i := 1; i <= 3; i++ {
		storetest.Deposit(t, a, "1001", voicemail.Envelope{}, time.Second)
		start := time.Now()
		storetest.Until(t, ch, voicemail.Counts{New: i})
		if d := time.Since(start); d > time.Second {
			t.Fatalf("deposit %d reached the other store's watcher after %v", i, d)
		} else {
			t.Logf("deposit %d: watcher on the other store after %v", i, d)
		}
	}
	if st := b.Stats(); st.Notifications < 3 || st.ListenConnects != 1 {
		t.Fatalf("stats %+v", st)
	}
}

// waitListening waits until a Store's LISTEN connection is up.
func waitListening(t *testing.T, s *Store) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for s.Stats().ListenConnects == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no LISTEN connection within 10 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// The LISTEN connection killed by the server (pg_terminate_backend): the Store reconnects
// and re-reads what it watches, so a change made while it was away still arrives.
func testListenerReconnect(t *testing.T, url string) {
	a, b := open(t, url, Options{}), open(t, url, Options{})
	ch, err := b.Watch(ctx, "1001")
	if err != nil {
		t.Fatal(err)
	}
	storetest.Until(t, ch, voicemail.Counts{})
	waitListening(t, b)
	// Kill the listener and deposit in one transaction's reach: the NOTIFY may be lost.
	var killed int
	if err := a.Pool().QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = current_database() AND query LIKE 'LISTEN %'`).Scan(&killed); err != nil || killed != 1 {
		t.Fatalf("terminated %d listeners: %v", killed, err)
	}
	storetest.Deposit(t, a, "1001", voicemail.Envelope{}, time.Second)
	storetest.Until(t, ch, voicemail.Counts{New: 1})
	deadline := time.Now().Add(10 * time.Second)
	for b.Stats().ListenConnects < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("no reconnect: %+v", b.Stats())
		}
		time.Sleep(10 * time.Millisecond)
	}
	storetest.Deposit(t, a, "1001", voicemail.Envelope{}, time.Second)
	storetest.Until(t, ch, voicemail.Counts{New: 2})
	if errs := b.Stats(); errs.Outages != 0 {
		// A listener reconnect is no outage of the database.
		t.Logf("stats %+v", errs)
	}
}

var _ = errors.Is
