// Package pgstore is the voicemail.Store on PostgreSQL (`[voicemail] store = postgres://...`),
// shared by a pool of sidecars: a sidecar can die or join without taking mailboxes with it.
//
// Tables (migrations/, applied at Open and by `sidecar voicemail migrate`):
//
//	voicemail_mailbox   one row per mailbox: next_id, the next message number
//	voicemail_message   envelope + folder + the WAV file (bytea, stored out of line)
//	voicemail_greeting  one WAV per mailbox and kind
//
// Audio is bytea in the message row, not a large object and not a shared path: a 60 s G.711
// message (480 KB) deposits and plays back faster as bytea than as a large object, with no
// more server memory (BENCHMARKS.md), bytea rows go away with DELETE (large objects need
// lo_unlink or they leak), and pg_dump/replication carry them like any row. A recording is
// buffered in memory until Commit (bounded by maxsecs, or by Options.MaxUncapped when maxsecs
// is 0) so no pooled connection is held while a caller talks: the commit is then ONE
// transaction that locks the mailbox row, checks maxmsg, takes the number, inserts the
// message and NOTIFYs. A crash or kill -9 before the COMMIT leaves nothing; numbers come from
// the locked row, so deposits from any number of sidecars never share one.
//
// Every change of a mailbox's messages runs `NOTIFY sidecar_voicemail, '<mailbox>'` in its
// transaction (delivered at COMMIT). Each Store LISTENs on one dedicated connection, with
// reconnects under a bounded backoff; after each (re)connect it re-reads the counts of every
// watched mailbox, since notifications sent meanwhile are lost.
//
// PostgreSQL down or unreachable: every operation fails within Options.OpTimeout with an
// error wrapping voicemail.ErrUnavailable; watchers keep their last counts; the outage is
// logged once (and its end once) and counted in Stats. Nothing needs a restart afterwards.
// With Options.Background a store opened during an outage is the same: Open returns it, the
// migration is retried in the background, and operations fail with ErrUnavailable until the
// schema is current (`sidecar voicemail migrate` stays strict: it opens without Background).
package pgstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/sidecar-voip/sidecar/voicemail"
)

// Channel is the LISTEN/NOTIFY channel; the payload is the mailbox name.
const Channel = "sidecar_voicemail"

// Options tune a Store; zero values take the defaults.
type Options struct {
	// Log receives the outage and recovery lines (nil: discarded).
	Log *slog.Logger
	// OpTimeout bounds every operation, connecting included. Default 3s.
	OpTimeout time.Duration
	// MaxConns is the pool size. Default 10 (the LISTEN connection is one more).
	MaxConns int32
	// MaxBackoff bounds the wait between LISTEN reconnects (which start at 100 ms and double).
	// Default 5s.
	MaxBackoff time.Duration
	// MaxUncapped bounds a recording whose limits set no maximum duration. Default 10 min.
	MaxUncapped time.Duration
	// NoMigrate skips the migration at Open (the schema must then be current).
	NoMigrate bool
	// Background lets Open succeed when the database cannot be reached (serve: a sidecar
	// started during an outage must start): the migration is then retried in the background
	// under the LISTEN backoff, every operation fails with ErrUnavailable until it has
	// succeeded, and the outage is logged and counted like any other. Errors that are no
	// outage (a wrong password, a schema newer than this binary) still fail Open.
	Background bool
}

// Stats are the store's counters, for metrics.
type Stats struct {
	// Down reports an outage in progress.
	Down bool
	// Outages counts transitions from available to unavailable.
	Outages uint64
	// Unavailable counts operations that failed with ErrUnavailable.
	Unavailable uint64
	// ListenConnects counts LISTEN connections established (the first one included).
	ListenConnects uint64
	// Notifications counts NOTIFYs received.
	Notifications uint64
}

// Store is a voicemail.Store on a PostgreSQL database. Several Stores, in one or more
// processes, may share a database.
type Store struct {
	pool *pgxpool.Pool
	url  string
	opts Options
	log  *slog.Logger

	healthMu  sync.Mutex
	down      bool
	downSince time.Time
	outages   atomic.Uint64
	unavail   atomic.Uint64

	listenConnects atomic.Uint64
	notifications  atomic.Uint64

	// ready is set once the schema is known current (at Open, or by the background
	// migrator); until then every operation fails with ErrUnavailable.
	ready      atomic.Bool
	migrateErr atomic.Pointer[error] // the background migration's last failure
	kick       chan struct{}         // wakes the background migrator early (cap 1)
	migrated   chan struct{}         // closed when the background migrator ends

	mu      sync.Mutex
	watch   *watcher
	closed  bool
	closing chan struct{}
}

var _ voicemail.Store = (*Store)(nil)

// Open connects to the database at url (a postgres:// URL or a libpq key=value string),
// migrates its schema unless opts.NoMigrate, and returns the store. A database that cannot be
// reached gives an error wrapping voicemail.ErrUnavailable.
func Open(ctx context.Context, url string, opts Options) (*Store, error) {
	if opts.OpTimeout <= 0 {
		opts.OpTimeout = 3 * time.Second
	}
	if opts.MaxConns <= 0 {
		opts.MaxConns = 10
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = 5 * time.Second
	}
	if opts.MaxUncapped <= 0 {
		opts.MaxUncapped = 10 * time.Minute
	}
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("open voicemail store: %w", err) // pgx redacts the password
	}
	cfg.MaxConns = opts.MaxConns
	cfg.ConnConfig.ConnectTimeout = opts.OpTimeout
	cfg.HealthCheckPeriod = 10 * time.Second
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open voicemail store: %w", err)
	}
	s := &Store{pool: pool, url: url, opts: opts, log: log, closing: make(chan struct{}),
		kick: make(chan struct{}, 1), migrated: make(chan struct{})}
	if opts.NoMigrate {
		s.ready.Store(true)
		close(s.migrated)
		return s, nil
	}
	mctx, cancel := context.WithTimeout(ctx, 10*opts.OpTimeout)
	_, err = Migrate(mctx, pool)
	cancel()
	err = s.classify(ctx, err)
	switch {
	case err == nil:
		s.ready.Store(true)
		close(s.migrated)
	case opts.Background && errors.Is(err, voicemail.ErrUnavailable) && ctx.Err() == nil:
		s.migrateErr.Store(&err)
		s.unavail.Add(1)
		s.setDown(true, err)
		go s.migrateLater()
	default:
		pool.Close()
		return nil, err
	}
	return s, nil
}

// migrateLater retries the migration until it succeeds or the store closes: at once when an
// operation asks (kick), else after a backoff of 100 ms doubling to MaxBackoff. An error that
// is no outage (a schema newer than this binary) is logged once and retried at MaxBackoff: an
// operator may fix it without restarting the sidecar.
func (s *Store) migrateLater() {
	defer close(s.migrated)
	backoff := 100 * time.Millisecond
	var logged string
	for {
		select {
		case <-s.closing:
			return
		case <-s.kick:
		case <-time.After(backoff):
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*s.opts.OpTimeout)
		go func() { // Close cancels a migration in progress
			select {
			case <-s.closing:
				cancel()
			case <-ctx.Done():
			}
		}()
		applied, err := Migrate(ctx, s.pool)
		cancel()
		if err == nil {
			s.ready.Store(true)
			s.migrateErr.Store(nil)
			if len(applied) > 0 {
				s.log.Info("voicemail schema migrated", "applied", applied)
			}
			s.setDown(false, nil)
			s.mu.Lock()
			w := s.watch
			s.mu.Unlock()
			if w != nil {
				w.resync() // watchers that never got a first value get one now
			}
			return
		}
		err = s.classify(context.Background(), err)
		s.migrateErr.Store(&err)
		if errors.Is(err, voicemail.ErrUnavailable) {
			backoff = min(2*backoff, s.opts.MaxBackoff)
			continue
		}
		backoff = s.opts.MaxBackoff
		if err.Error() != logged {
			logged = err.Error()
			s.log.Error("voicemail schema not migrated: operations fail until it is", "err", err)
		}
	}
}

// Close stops watching (channels from Watch are closed) and closes the pool. Recordings in
// progress can no longer be committed.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.closing)
	w := s.watch
	s.mu.Unlock()
	<-s.migrated
	if w != nil {
		w.close()
	}
	s.pool.Close()
	return nil
}

// Pool is the store's connection pool (for the migrate and export commands, and tests).
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Stats returns the store's counters.
func (s *Store) Stats() Stats {
	s.healthMu.Lock()
	down := s.down
	s.healthMu.Unlock()
	return Stats{Down: down, Outages: s.outages.Load(), Unavailable: s.unavail.Load(),
		ListenConnects: s.listenConnects.Load(), Notifications: s.notifications.Load()}
}

// op bounds an operation by the store's timeout.
func (s *Store) op(ctx context.Context) (context.Context, context.CancelFunc, error) {
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return nil, nil, voicemail.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	if !s.ready.Load() {
		select { // the migrator tries again now rather than after its backoff
		case s.kick <- struct{}{}:
		default:
		}
		err := voicemail.ErrUnavailable
		if p := s.migrateErr.Load(); p != nil {
			err = fmt.Errorf("schema not migrated yet: %w", *p)
			if !errors.Is(err, voicemail.ErrUnavailable) {
				err = fmt.Errorf("%w: %w", voicemail.ErrUnavailable, err)
			}
		}
		s.unavail.Add(1)
		s.setDown(true, err)
		return nil, nil, err
	}
	octx, cancel := context.WithTimeout(ctx, s.opts.OpTimeout)
	return octx, cancel, nil
}

// done records an operation's outcome for the health state and returns its error, classified:
// nil and the store's own errors (voicemail.Err*) say the database answered; connection
// failures and timeouts become ErrUnavailable.
func (s *Store) done(ctx context.Context, err error) error {
	err = s.classify(ctx, err)
	if errors.Is(err, voicemail.ErrUnavailable) {
		s.unavail.Add(1)
		s.setDown(true, err)
	} else if err == nil || !errors.Is(err, context.Canceled) {
		s.setDown(false, nil)
	}
	return err
}

// classify wraps connection failures in ErrUnavailable.
func (s *Store) classify(ctx context.Context, err error) error {
	if err == nil || errors.Is(err, voicemail.ErrUnavailable) {
		return err
	}
	if ctx.Err() != nil && !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return err // the caller gave up: not the database's fault
	}
	if unavailable(err) {
		return fmt.Errorf("%w: %w", voicemail.ErrUnavailable, err)
	}
	return err
}

// unavailable reports errors that mean the database cannot be used now.
func unavailable(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case len(pgErr.Code) == 5 && pgErr.Code[:2] == "08": // connection exception
			return true
		case pgErr.Code == "57P01", pgErr.Code == "57P02", pgErr.Code == "57P03", // shutdown, cannot connect now
			pgErr.Code == "53300", pgErr.Code == "53000": // too many connections, out of resources
			return true
		}
		return false
	}
	var connErr *pgconn.ConnectError
	var netErr net.Error
	return errors.As(err, &connErr) || errors.As(err, &netErr) || pgconn.Timeout(err) || pgconn.SafeToRetry(err) ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, pgx.ErrTxClosed) || isClosedConn(err)
}

func isClosedConn(err error) bool {
	var c interface{ SafeToRetry() bool }
	return errors.As(err, &c) && errors.Is(err, net.ErrClosed)
}

// setDown moves the health state, logging each transition once.
func (s *Store) setDown(down bool, err error) {
	s.healthMu.Lock()
	defer s.healthMu.Unlock()
	if s.down == down {
		return
	}
	s.down = down
	if down {
		s.downSince = time.Now()
		s.outages.Add(1)
		s.log.Warn("voicemail store unavailable: operations fail until it is back", "err", err)
		return
	}
	s.log.Info("voicemail store available again", "outage", time.Since(s.downSince).Round(time.Millisecond))
}

func checkMailbox(mbox string) error {
	if !voicemail.ValidMailbox(mbox) {
		return fmt.Errorf("%w: %q", voicemail.ErrMailbox, mbox)
	}
	return nil
}
