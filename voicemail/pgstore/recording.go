package pgstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/sidecar-voip/sidecar/voicemail"
	"github.com/sidecar-voip/sidecar/voicemail/internal/deposit"
)

// maxStr bounds caller id and name, as fsstore's envelope does.
const maxStr = 512

// clip makes s storable text: valid UTF-8 without NUL (which PostgreSQL's text refuses), at
// most maxStr bytes.
func clip(s string) string {
	s = strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
	for len(s) > maxStr {
		_, n := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-n]
	}
	return s
}

func newUID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Deposit starts a message recording into INBOX, or Urgent for an urgent one. A full folder,
// or a database that cannot be reached, fails here, before the caller records anything.
func (s *Store) Deposit(ctx context.Context, mbox string, env voicemail.Envelope, limits voicemail.Limits) (voicemail.Recording, error) {
	folder := deposit.Target(env)
	if err := checkMailbox(mbox); err != nil {
		return nil, err
	}
	r, err := s.newRecording(mbox, env.Codec, limits.MaxDuration, limits.MinDuration)
	if err != nil {
		return nil, err
	}
	n, err := s.Count(ctx, mbox, folder)
	if err != nil {
		return nil, err
	}
	if err := deposit.Full(mbox, folder, n, limits.MaxMessages); err != nil {
		return nil, err
	}
	if env.Time.IsZero() {
		env.Time = time.Now()
	}
	r.folder, r.env, r.maxMessages = folder, env, limits.MaxMessages
	return r, nil
}

// PutGreeting starts a greeting recording.
func (s *Store) PutGreeting(ctx context.Context, mbox string, g voicemail.Greeting, codec string, limits voicemail.Limits) (voicemail.Recording, error) {
	if err := deposit.CheckGreeting(ctx, mbox, g); err != nil {
		return nil, err
	}
	r, err := s.newRecording(mbox, codec, limits.MaxGreeting, limits.MinDuration)
	if err != nil {
		return nil, err
	}
	r.greeting = g
	return r, nil
}

// memFile is an in-memory io.WriteSeeker for the WAV writer.
type memFile struct {
	b   []byte
	off int
}

func (m *memFile) Write(p []byte) (int, error) {
	if m.off == len(m.b) {
		m.b = append(m.b, p...)
	} else {
		if end := m.off + len(p); end > len(m.b) {
			m.b = append(m.b, make([]byte, end-len(m.b))...)
		}
		copy(m.b[m.off:], p)
	}
	m.off += len(p)
	return len(p), nil
}

func (m *memFile) Seek(off int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		off += int64(m.off)
	case io.SeekEnd:
		off += int64(len(m.b))
	}
	if off < 0 || off > int64(len(m.b)) {
		return 0, errors.New("memfile: seek out of range")
	}
	m.off = int(off)
	return off, nil
}

// recording buffers a WAV file in memory (bounded by its maximum duration) and writes it in
// one transaction at Commit: no connection is held while the caller speaks.
type recording struct {
	*deposit.Recording
	s    *Store
	mbox string
	buf  *memFile

	folder      voicemail.Folder
	env         voicemail.Envelope
	maxMessages int
	greeting    voicemail.Greeting
}

func (s *Store) newRecording(mbox, codec string, maxDur, minDur time.Duration) (*recording, error) {
	if maxDur <= 0 || maxDur > s.opts.MaxUncapped {
		maxDur = s.opts.MaxUncapped
	}
	r := &recording{s: s, mbox: mbox, buf: &memFile{}}
	rec, err := deposit.New(r.buf, mbox, codec, maxDur, minDur, nil)
	if err != nil {
		return nil, err
	}
	r.Recording = rec
	return r, nil
}

// Discard drops the recording (its buffer; nothing reached the database).
func (r *recording) Discard() error {
	r.End()
	r.buf = nil
	return nil
}

// Commit finishes the WAV and stores it in one transaction.
func (r *recording) Commit() (voicemail.Message, error) {
	if err := r.Usable(); err != nil {
		return voicemail.Message{}, err
	}
	defer func() { r.buf = nil }()
	if err := r.Finish(); err != nil {
		return voicemail.Message{}, err
	}
	if r.greeting != "" {
		return voicemail.Message{}, r.commitGreeting()
	}
	return r.commitMessage()
}

func (r *recording) commitGreeting() error {
	s := r.s
	octx, cancel, err := s.op(context.Background())
	if err != nil {
		return err
	}
	defer cancel()
	err = upsertGreeting(octx, s, r.mbox, r.greeting, r.buf.b)
	if err = s.done(octx, err); err != nil {
		return fmt.Errorf("store greeting %s/%s: %w", r.mbox, r.greeting, err)
	}
	return nil
}

func (r *recording) commitMessage() (voicemail.Message, error) {
	s := r.s
	m := voicemail.Message{
		Folder: r.folder, UID: newUID(), CallerID: clip(r.env.CallerID), CallerName: clip(r.env.CallerName),
		// timestamptz keeps microseconds: the envelope returned is the one stored.
		Time: r.env.Time.UTC().Truncate(time.Microsecond), Duration: r.Duration().Truncate(time.Millisecond), Urgent: r.env.Urgent, Codec: r.Codec(),
	}
	octx, cancel, err := s.op(context.Background())
	if err != nil {
		return voicemail.Message{}, err
	}
	defer cancel()
	err = pgx.BeginFunc(octx, s.pool, func(tx pgx.Tx) error {
		id, err := lockMailbox(octx, tx, r.mbox)
		if err != nil {
			return err
		}
		var n int
		if err := tx.QueryRow(octx, "SELECT count(*) FROM voicemail_message WHERE mailbox = $1 AND folder = $2", r.mbox, string(r.folder)).Scan(&n); err != nil {
			return err
		}
		if err := deposit.Full(r.mbox, r.folder, n, r.maxMessages); err != nil {
			return err
		}
		m.ID = uint64(id)
		return insertMessage(octx, tx, r.mbox, m, r.buf.b)
	})
	if err = s.done(octx, err); err != nil {
		return voicemail.Message{}, fmt.Errorf("store message for %s: %w", r.mbox, err)
	}
	s.changed(r.mbox)
	return m, nil
}

// lockMailbox creates the mailbox's row if needed, locks it until the transaction ends and
// returns its next message number. Every writer that numbers or counts takes this lock first.
func lockMailbox(ctx context.Context, tx pgx.Tx, mbox string) (next int64, err error) {
	err = tx.QueryRow(ctx, `INSERT INTO voicemail_mailbox (mailbox) VALUES ($1)
		ON CONFLICT (mailbox) DO UPDATE SET next_id = voicemail_mailbox.next_id
		RETURNING next_id`, mbox).Scan(&next)
	return next, err
}

// insertMessage inserts a message (m.ID set), moves the mailbox's counter past it and
// queues the notification, in one round trip.
func insertMessage(ctx context.Context, tx pgx.Tx, mbox string, m voicemail.Message, wavFile []byte) error {
	b := &pgx.Batch{}
	b.Queue(`INSERT INTO voicemail_message (mailbox, id, folder, uid, caller_id, caller_name, received, duration_ms, urgent, codec, audio)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		mbox, int64(m.ID), string(m.Folder), m.UID, m.CallerID, m.CallerName, m.Time, m.Duration.Milliseconds(), m.Urgent, m.Codec, wavFile)
	b.Queue("UPDATE voicemail_mailbox SET next_id = greatest(next_id, $2 + 1) WHERE mailbox = $1", mbox, int64(m.ID))
	b.Queue("SELECT pg_notify($1, $2)", Channel, mbox)
	return tx.SendBatch(ctx, b).Close()
}
