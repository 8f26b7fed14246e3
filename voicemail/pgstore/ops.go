package pgstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/sidecar-voip/sidecar/voicemail"
)

const msgColumns = "id, folder, uid, caller_id, caller_name, received, duration_ms, urgent, codec"

// scanMessage scans msgColumns, then extra columns into extra.
func scanMessage(row pgx.Row, extra ...any) (voicemail.Message, error) {
	var m voicemail.Message
	var id, durMS int64
	var folder string
	err := row.Scan(append([]any{&id, &folder, &m.UID, &m.CallerID, &m.CallerName, &m.Time, &durMS, &m.Urgent, &m.Codec}, extra...)...)
	m.ID, m.Folder, m.Duration, m.Time = uint64(id), voicemail.Folder(folder), time.Duration(durMS)*time.Millisecond, m.Time.UTC()
	return m, err
}

// Count returns the number of messages in a folder.
func (s *Store) Count(ctx context.Context, mbox string, f voicemail.Folder) (int, error) {
	if !f.Valid() {
		return 0, fmt.Errorf("%w: %q", voicemail.ErrFolder, f)
	}
	if err := checkMailbox(mbox); err != nil {
		return 0, err
	}
	octx, cancel, err := s.op(ctx)
	if err != nil {
		return 0, err
	}
	defer cancel()
	var n int
	err = s.pool.QueryRow(octx, "SELECT count(*) FROM voicemail_message WHERE mailbox = $1 AND folder = $2", mbox, string(f)).Scan(&n)
	if err = s.done(octx, err); err != nil {
		return 0, fmt.Errorf("count %s/%s: %w", mbox, f, err)
	}
	return n, nil
}

// Counts returns the message-waiting counts as fsstore does: New counts INBOX and Urgent, Old
// the Old folder, UrgentNew the Urgent folder and UrgentOld the urgent messages in Old.
func (s *Store) Counts(ctx context.Context, mbox string) (voicemail.Counts, error) {
	if err := checkMailbox(mbox); err != nil {
		return voicemail.Counts{}, err
	}
	octx, cancel, err := s.op(ctx)
	if err != nil {
		return voicemail.Counts{}, err
	}
	defer cancel()
	var c voicemail.Counts
	err = s.pool.QueryRow(octx, `SELECT
			count(*) FILTER (WHERE folder IN ('INBOX', 'Urgent')),
			count(*) FILTER (WHERE folder = 'Old'),
			count(*) FILTER (WHERE folder = 'Urgent'),
			count(*) FILTER (WHERE folder = 'Old' AND urgent)
		FROM voicemail_message WHERE mailbox = $1`, mbox).Scan(&c.New, &c.Old, &c.UrgentNew, &c.UrgentOld)
	if err = s.done(octx, err); err != nil {
		return voicemail.Counts{}, fmt.Errorf("count %s: %w", mbox, err)
	}
	return c, nil
}

// List returns a folder's messages, ascending by number.
func (s *Store) List(ctx context.Context, mbox string, f voicemail.Folder) ([]voicemail.Message, error) {
	if !f.Valid() {
		return nil, fmt.Errorf("%w: %q", voicemail.ErrFolder, f)
	}
	if err := checkMailbox(mbox); err != nil {
		return nil, err
	}
	octx, cancel, err := s.op(ctx)
	if err != nil {
		return nil, err
	}
	defer cancel()
	rows, err := s.pool.Query(octx, "SELECT "+msgColumns+" FROM voicemail_message WHERE mailbox = $1 AND folder = $2 ORDER BY id", mbox, string(f))
	var msgs []voicemail.Message
	if err == nil {
		msgs, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (voicemail.Message, error) { return scanMessage(r) })
	}
	if err = s.done(octx, err); err != nil {
		return nil, fmt.Errorf("list %s/%s: %w", mbox, f, err)
	}
	return msgs, nil
}

// audio is a stored WAV file held in memory: reading it needs no connection, and it stays
// readable after the message is deleted.
type audio struct{ *bytes.Reader }

func (audio) Close() error { return nil }

// Open returns a message's envelope and audio, wherever it is now.
func (s *Store) Open(ctx context.Context, mbox string, id uint64) (voicemail.Message, voicemail.Audio, error) {
	if err := checkMailbox(mbox); err != nil {
		return voicemail.Message{}, nil, err
	}
	octx, cancel, err := s.op(ctx)
	if err != nil {
		return voicemail.Message{}, nil, err
	}
	defer cancel()
	var wav []byte
	m, err := scanMessage(s.pool.QueryRow(octx, "SELECT "+msgColumns+", audio FROM voicemail_message WHERE mailbox = $1 AND id = $2", mbox, int64(id)), &wav)
	if errors.Is(err, pgx.ErrNoRows) {
		s.done(octx, nil)
		return voicemail.Message{}, nil, fmt.Errorf("message %s/%d: %w", mbox, id, voicemail.ErrNotFound)
	}
	if err = s.done(octx, err); err != nil {
		return voicemail.Message{}, nil, fmt.Errorf("open message %s/%d: %w", mbox, id, err)
	}
	return m, audio{bytes.NewReader(wav)}, nil
}

// notify queues the change notification of a mailbox in a transaction.
func notify(ctx context.Context, tx pgx.Tx, mbox string) error {
	_, err := tx.Exec(ctx, "SELECT pg_notify($1, $2)", Channel, mbox)
	return err
}

// Move moves a message to another folder, keeping its number. The mailbox row is locked so
// two moves into one folder cannot both pass its limit.
func (s *Store) Move(ctx context.Context, mbox string, id uint64, to voicemail.Folder, maxMessages int) (voicemail.Message, error) {
	if !to.Valid() {
		return voicemail.Message{}, fmt.Errorf("%w: %q", voicemail.ErrFolder, to)
	}
	if err := checkMailbox(mbox); err != nil {
		return voicemail.Message{}, err
	}
	octx, cancel, err := s.op(ctx)
	if err != nil {
		return voicemail.Message{}, err
	}
	defer cancel()
	var m voicemail.Message
	moved := false
	err = pgx.BeginFunc(octx, s.pool, func(tx pgx.Tx) error {
		var one int
		if err := tx.QueryRow(octx, "SELECT 1 FROM voicemail_mailbox WHERE mailbox = $1 FOR UPDATE", mbox).Scan(&one); err != nil {
			return err
		}
		var err error
		m, err = scanMessage(tx.QueryRow(octx, "SELECT "+msgColumns+" FROM voicemail_message WHERE mailbox = $1 AND id = $2", mbox, int64(id)))
		if err != nil || m.Folder == to {
			return err
		}
		if maxMessages >= 0 {
			var n int
			if err := tx.QueryRow(octx, "SELECT count(*) FROM voicemail_message WHERE mailbox = $1 AND folder = $2", mbox, string(to)).Scan(&n); err != nil {
				return err
			}
			if n >= maxMessages {
				return fmt.Errorf("move message %s/%d to %s: %w", mbox, id, to, voicemail.ErrMailboxFull)
			}
		}
		if _, err := tx.Exec(octx, "UPDATE voicemail_message SET folder = $3 WHERE mailbox = $1 AND id = $2", mbox, int64(id), string(to)); err != nil {
			return err
		}
		m.Folder, moved = to, true
		return notify(octx, tx, mbox)
	})
	return s.folderChanged(octx, mbox, id, m, moved, err, "move message")
}

// folderChanged ends Move and MarkRead: m is message id of mbox after the transaction that
// ended with err (pgx.ErrNoRows: it does not exist); the watchers are told when it moved.
// what names the operation in errors.
func (s *Store) folderChanged(octx context.Context, mbox string, id uint64, m voicemail.Message, moved bool, err error, what string) (voicemail.Message, error) {
	if errors.Is(err, pgx.ErrNoRows) {
		s.done(octx, nil)
		return voicemail.Message{}, fmt.Errorf("message %s/%d: %w", mbox, id, voicemail.ErrNotFound)
	}
	if err = s.done(octx, err); err != nil {
		return voicemail.Message{}, fmt.Errorf("%s %s/%d: %w", what, mbox, id, err)
	}
	if moved {
		s.changed(mbox)
	}
	return m, nil
}

// MarkRead moves a message from INBOX or Urgent to Old.
func (s *Store) MarkRead(ctx context.Context, mbox string, id uint64) (voicemail.Message, error) {
	if err := checkMailbox(mbox); err != nil {
		return voicemail.Message{}, err
	}
	octx, cancel, err := s.op(ctx)
	if err != nil {
		return voicemail.Message{}, err
	}
	defer cancel()
	var m voicemail.Message
	moved := false
	err = pgx.BeginFunc(octx, s.pool, func(tx pgx.Tx) error {
		var err error
		m, err = scanMessage(tx.QueryRow(octx, "SELECT "+msgColumns+" FROM voicemail_message WHERE mailbox = $1 AND id = $2 FOR UPDATE", mbox, int64(id)))
		if err != nil || (m.Folder != voicemail.Inbox && m.Folder != voicemail.Urgent) {
			return err
		}
		if _, err := tx.Exec(octx, "UPDATE voicemail_message SET folder = 'Old' WHERE mailbox = $1 AND id = $2", mbox, int64(id)); err != nil {
			return err
		}
		m.Folder, moved = voicemail.Old, true
		return notify(octx, tx, mbox)
	})
	return s.folderChanged(octx, mbox, id, m, moved, err, "mark message read")
}

// Delete removes a message.
func (s *Store) Delete(ctx context.Context, mbox string, id uint64) error {
	if err := checkMailbox(mbox); err != nil {
		return err
	}
	octx, cancel, err := s.op(ctx)
	if err != nil {
		return err
	}
	defer cancel()
	var n int64
	err = pgx.BeginFunc(octx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(octx, "DELETE FROM voicemail_message WHERE mailbox = $1 AND id = $2", mbox, int64(id))
		if err != nil {
			return err
		}
		if n = tag.RowsAffected(); n == 0 {
			return nil
		}
		return notify(octx, tx, mbox)
	})
	if err = s.done(octx, err); err != nil {
		return fmt.Errorf("delete message %s/%d: %w", mbox, id, err)
	}
	if n == 0 {
		return fmt.Errorf("message %s/%d: %w", mbox, id, voicemail.ErrNotFound)
	}
	s.changed(mbox)
	return nil
}

// Greeting returns a greeting's WAV file.
func (s *Store) Greeting(ctx context.Context, mbox string, g voicemail.Greeting) (voicemail.Audio, error) {
	if !g.Valid() {
		return nil, fmt.Errorf("%w: greeting %q", voicemail.ErrFolder, g)
	}
	if err := checkMailbox(mbox); err != nil {
		return nil, err
	}
	octx, cancel, err := s.op(ctx)
	if err != nil {
		return nil, err
	}
	defer cancel()
	var wav []byte
	err = s.pool.QueryRow(octx, "SELECT audio FROM voicemail_greeting WHERE mailbox = $1 AND kind = $2", mbox, string(g)).Scan(&wav)
	if errors.Is(err, pgx.ErrNoRows) {
		s.done(octx, nil)
		return nil, fmt.Errorf("greeting %s/%s: %w", mbox, g, voicemail.ErrNotFound)
	}
	if err = s.done(octx, err); err != nil {
		return nil, fmt.Errorf("open greeting %s/%s: %w", mbox, g, err)
	}
	return audio{bytes.NewReader(wav)}, nil
}

// DeleteGreeting removes a greeting.
func (s *Store) DeleteGreeting(ctx context.Context, mbox string, g voicemail.Greeting) error {
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
	_, err = s.pool.Exec(octx, "DELETE FROM voicemail_greeting WHERE mailbox = $1 AND kind = $2", mbox, string(g))
	if err = s.done(octx, err); err != nil {
		return fmt.Errorf("delete greeting %s/%s: %w", mbox, g, err)
	}
	return nil
}
