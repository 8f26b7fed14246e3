// Package open chooses and opens the mailbox store the settings name, so serve and the
// voicemail commands need one call: a postgres:// URL opens voicemail/pgstore (migrating its
// schema), anything else the directory store voicemail/fsstore.
package open

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"strings"

	"github.com/sidecar-voip/sidecar/voicemail"
	"github.com/sidecar-voip/sidecar/voicemail/fsstore"
	"github.com/sidecar-voip/sidecar/voicemail/pgstore"
	"github.com/sidecar-voip/sidecar/voicemail/transfer"
)

// Store is an open mailbox store: the contract, export and import, and Close.
type Store interface {
	voicemail.Store
	transfer.Source
	transfer.Sink
	Close() error
}

// Stats are a shared store's health counters (zero for the directory store).
type Stats = pgstore.Stats

// IsDatabase reports whether a [voicemail] store value names a PostgreSQL database.
func IsDatabase(storeURL string) bool {
	return strings.HasPrefix(storeURL, "postgres://") || strings.HasPrefix(storeURL, "postgresql://")
}

// Open opens the store: PostgreSQL at storeURL when it is a postgres:// URL, else the
// directory dir. log receives a database store's outage lines. The description says which
// store it is, for the start-up log line (a URL without its password, or the directory).
//
// A database that cannot be reached is no error: a sidecar started during an outage must
// start and serve the rest of its dialplan. The store is returned down (logged once,
// counted), its schema migration retried in the background, and every operation fails with
// voicemail.ErrUnavailable until the database is back and migrated (pgstore.Options
// Background). A malformed URL, refused credentials or a schema newer than this binary still
// fail here.
func Open(ctx context.Context, storeURL, dir string, log *slog.Logger) (s Store, description string, err error) {
	if IsDatabase(storeURL) {
		pg, err := pgstore.Open(ctx, storeURL, pgstore.Options{Log: log, Background: true})
		if err != nil {
			return nil, "", fmt.Errorf("open voicemail store %s: %w", redact(storeURL), err)
		}
		return pg, redact(storeURL), nil
	}
	if storeURL != "" {
		return nil, "", fmt.Errorf("open voicemail store: %q is no postgres:// URL", redact(storeURL))
	}
	fs, err := fsstore.Open(dir)
	if err != nil {
		return nil, "", err
	}
	return fs, dir, nil
}

// StatsOf returns a store's health counters: a database store's, else zero.
func StatsOf(s voicemail.Store) Stats {
	if pg, ok := s.(*pgstore.Store); ok {
		return pg.Stats()
	}
	return Stats{}
}

// redact hides a URL's password.
func redact(storeURL string) string {
	u, err := url.Parse(storeURL)
	if err != nil {
		return "(a malformed URL, not shown)"
	}
	if q := u.Query(); q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}
