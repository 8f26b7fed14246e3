// Package transfer copies mailboxes between voicemail stores (behind `sidecar voicemail
// export` and `import`): every message with its number, folder, flags, envelope and audio,
// and every greeting. A copy is idempotent: a message already in the destination with the
// same number and UID is not copied again (its folder follows the source), so an interrupted
// copy is finished by running it again. A number held by another message (another UID) in
// the destination is a conflict, reported and left alone.
package transfer

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/sidecar-voip/sidecar/voicemail"
)

// ErrConflict reports a message number the destination uses for another message.
var ErrConflict = errors.New("message number taken by another message")

// Source is a store whose mailboxes can be enumerated.
type Source interface {
	voicemail.Store
	// Mailboxes lists every mailbox that holds messages or greetings, sorted.
	Mailboxes(ctx context.Context) ([]string, error)
	// NextNumber is the number the mailbox's next message would get: numbers below it were
	// handed out (some may be deleted) and must not be handed out again after the copy.
	NextNumber(ctx context.Context, mailbox string) (uint64, error)
}

// Sink is a store that takes messages as they are, numbers included.
type Sink interface {
	voicemail.Store
	// Import stores a message under its own number, UID, folder and envelope, limits
	// ignored; the mailbox's numbering continues past it. A message of that number and UID
	// already there is moved to m.Folder and reported as not new; another UID under that
	// number gives ErrConflict.
	Import(ctx context.Context, mailbox string, m voicemail.Message, wav []byte) (isNew bool, err error)
	// ReserveNumbers makes the mailbox's next message number at least next.
	ReserveNumbers(ctx context.Context, mailbox string, next uint64) error
	// ImportGreeting stores a greeting's WAV file, replacing one there.
	ImportGreeting(ctx context.Context, mailbox string, g voicemail.Greeting, wav []byte) error
}

// Report counts what a copy did.
type Report struct {
	Mailboxes, Messages, Unchanged, Greetings int
	// Conflicts lists the messages not copied because their number is taken.
	Conflicts []string
}

// Copy copies every mailbox of from into to. It stops at the first error other than a
// conflict; conflicts are listed in the report and make the returned error ErrConflict.
func Copy(ctx context.Context, from Source, to Sink) (Report, error) {
	var r Report
	boxes, err := from.Mailboxes(ctx)
	if err != nil {
		return r, fmt.Errorf("list mailboxes: %w", err)
	}
	for _, mbox := range boxes {
		r.Mailboxes++
		for _, f := range voicemail.Folders {
			msgs, err := from.List(ctx, mbox, f)
			if err != nil {
				return r, fmt.Errorf("list %s/%s: %w", mbox, f, err)
			}
			for _, m := range msgs {
				_, a, err := from.Open(ctx, mbox, m.ID)
				if errors.Is(err, voicemail.ErrNotFound) {
					continue // deleted meanwhile
				}
				if err != nil {
					return r, err
				}
				b, err := io.ReadAll(a)
				a.Close()
				if err != nil {
					return r, fmt.Errorf("read message %s/%d: %w", mbox, m.ID, err)
				}
				isNew, err := to.Import(ctx, mbox, m, b)
				switch {
				case errors.Is(err, ErrConflict):
					r.Conflicts = append(r.Conflicts, err.Error())
				case err != nil:
					return r, err
				case isNew:
					r.Messages++
				default:
					r.Unchanged++
				}
			}
		}
		next, err := from.NextNumber(ctx, mbox)
		if err != nil {
			return r, err
		}
		if err := to.ReserveNumbers(ctx, mbox, next); err != nil {
			return r, err
		}
		for _, g := range []voicemail.Greeting{voicemail.Unavail, voicemail.Busy, voicemail.Temp, voicemail.Name} {
			a, err := from.Greeting(ctx, mbox, g)
			if errors.Is(err, voicemail.ErrNotFound) {
				continue
			}
			if err != nil {
				return r, err
			}
			b, err := io.ReadAll(a)
			a.Close()
			if err != nil {
				return r, fmt.Errorf("read greeting %s/%s: %w", mbox, g, err)
			}
			if err := to.ImportGreeting(ctx, mbox, g, b); err != nil {
				return r, err
			}
			r.Greetings++
		}
	}
	if len(r.Conflicts) > 0 {
		return r, fmt.Errorf("%d messages not copied: %w", len(r.Conflicts), ErrConflict)
	}
	return r, nil
}
