package pgstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/sidecar-voip/sidecar/voicemail"
	"github.com/sidecar-voip/sidecar/voicemail/internal/deposit"
	"github.com/sidecar-voip/sidecar/voicemail/transfer"
)

var _ transfer.Sink = (*Store)(nil)
var _ transfer.Source = (*Store)(nil)

// Mailboxes lists every mailbox, sorted.
func (s *Store) Mailboxes(ctx context.Context) ([]string, error) {
	octx, cancel, err := s.op(ctx)
	if err != nil {
		return nil, err
	}
	defer cancel()
	rows, err := s.pool.Query(octx, "SELECT mailbox FROM voicemail_mailbox ORDER BY mailbox")
	var boxes []string
	if err == nil {
		boxes, err = pgx.CollectRows(rows, pgx.RowTo[string])
	}
	if err = s.done(octx, err); err != nil {
		return nil, fmt.Errorf("list mailboxes: %w", err)
	}
	return boxes, nil
}

// Import stores a message under its own number (transfer.Sink), in one transaction under the
// mailbox's lock; the counter moves past the number.
func (s *Store) Import(ctx context.Context, mbox string, m voicemail.Message, wavFile []byte) (bool, error) {
	if err := checkMailbox(mbox); err != nil {
		return false, err
	}
	if !m.Folder.Valid() || m.ID == 0 || m.ID > 1<<62 {
		return false, fmt.Errorf("import message %s/%d: %w: folder %q", mbox, m.ID, voicemail.ErrFolder, m.Folder)
	}
	if _, ok := deposit.Storage(m.Codec); !ok {
		return false, fmt.Errorf("import message %s/%d: %w: codec %q", mbox, m.ID, voicemail.ErrFormat, m.Codec)
	}
	octx, cancel, err := s.op(ctx)
	if err != nil {
		return false, err
	}
	defer cancel()
	m.CallerID, m.CallerName, m.Time = clip(m.CallerID), clip(m.CallerName), m.Time.UTC().Truncate(time.Microsecond)
	isNew := false
	err = pgx.BeginFunc(octx, s.pool, func(tx pgx.Tx) error {
		if _, err := lockMailbox(octx, tx, mbox); err != nil {
			return err
		}
		var uid, folder string
		err := tx.QueryRow(octx, "SELECT uid, folder FROM voicemail_message WHERE mailbox = $1 AND id = $2", mbox, int64(m.ID)).Scan(&uid, &folder)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			var other int64
			err := tx.QueryRow(octx, "SELECT id FROM voicemail_message WHERE mailbox = $1 AND uid = $2", mbox, m.UID).Scan(&other)
			if err == nil {
				return fmt.Errorf("import message %s/%d (uid %s): %w (it is message %d here)", mbox, m.ID, m.UID, transfer.ErrConflict, other)
			}
			if !errors.Is(err, pgx.ErrNoRows) {
				return err
			}
			isNew = true
			return insertMessage(octx, tx, mbox, m, wavFile)
		case err != nil:
			return err
		case uid != m.UID:
			return fmt.Errorf("import message %s/%d (uid %s): %w (uid %s)", mbox, m.ID, m.UID, transfer.ErrConflict, uid)
		case folder != string(m.Folder):
			if _, err := tx.Exec(octx, "UPDATE voicemail_message SET folder = $3 WHERE mailbox = $1 AND id = $2", mbox, int64(m.ID), string(m.Folder)); err != nil {
				return err
			}
			return notify(octx, tx, mbox)
		}
		return nil
	})
	if err = s.done(octx, err); err != nil {
		return false, err
	}
	s.changed(mbox)
	return isNew, nil
}

// ImportGreeting stores a greeting's WAV file (transfer.Sink).
func (s *Store) ImportGreeting(ctx context.Context, mbox string, g voicemail.Greeting, wavFile []byte) error {
	if !g.Valid() {
		return fmt.Errorf("%w: greeting %q", voicemail.ErrFolder, g)
	}
	if err := checkMailbox(mbox); err != nil {
		return err
	}
	octx, cancel, err := s.op(ctx)
	if err != nil {
		return err
	}
	defer cancel()
	err = upsertGreeting(octx, s, mbox, g, wavFile)
	if err = s.done(octx, err); err != nil {
		return fmt.Errorf("import greeting %s/%s: %w", mbox, g, err)
	}
	return nil
}

func upsertGreeting(ctx context.Context, s *Store, mbox string, g voicemail.Greeting, wavFile []byte) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "INSERT INTO voicemail_mailbox (mailbox) VALUES ($1) ON CONFLICT DO NOTHING", mbox); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO voicemail_greeting (mailbox, kind, audio) VALUES ($1, $2, $3)
			ON CONFLICT (mailbox, kind) DO UPDATE SET audio = EXCLUDED.audio, updated = now()`, mbox, string(g), wavFile)
		return err
	})
}

// NextNumber is the number the mailbox's next message would get (transfer.Source).
func (s *Store) NextNumber(ctx context.Context, mbox string) (uint64, error) {
	if err := checkMailbox(mbox); err != nil {
		return 0, err
	}
	octx, cancel, err := s.op(ctx)
	if err != nil {
		return 0, err
	}
	defer cancel()
	next := int64(1)
	err = s.pool.QueryRow(octx, "SELECT next_id FROM voicemail_mailbox WHERE mailbox = $1", mbox).Scan(&next)
	if errors.Is(err, pgx.ErrNoRows) {
		err = nil
	}
	if err = s.done(octx, err); err != nil {
		return 0, fmt.Errorf("number messages of %s: %w", mbox, err)
	}
	return uint64(next), nil
}

// ReserveNumbers moves the mailbox's counter to at least next (transfer.Sink).
func (s *Store) ReserveNumbers(ctx context.Context, mbox string, next uint64) error {
	if err := checkMailbox(mbox); err != nil {
		return err
	}
	octx, cancel, err := s.op(ctx)
	if err != nil {
		return err
	}
	defer cancel()
	_, err = s.pool.Exec(octx, `INSERT INTO voicemail_mailbox (mailbox, next_id) VALUES ($1, $2)
		ON CONFLICT (mailbox) DO UPDATE SET next_id = greatest(voicemail_mailbox.next_id, EXCLUDED.next_id)`, mbox, int64(max(next, 1)))
	if err = s.done(octx, err); err != nil {
		return fmt.Errorf("number messages of %s: %w", mbox, err)
	}
	return nil
}
