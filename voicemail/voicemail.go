// Package voicemail defines the mailbox store the VoiceMail and VoiceMailMain applications use:
// folders of numbered messages (WAV audio plus an envelope), greetings, deposit limits, and
// change notification for message-waiting indication. Implementations live in sub-packages
// (voicemail/fsstore on a local directory); a shared store implements the same Store.
package voicemail

import (
	"context"
	"io"
	"time"
)

// Store is a set of mailboxes. Every method is safe for concurrent use, also against other
// processes using the same backing store. Mailbox names are checked with ValidMailbox.
//
// Message numbers (Message.ID) are allocated once per mailbox and never reused or renumbered:
// a retrieval session lists a folder once and addresses messages by their position in that
// snapshot; a message deleted or moved meanwhile by someone else answers ErrNotFound (or is
// found in its new folder), it never silently becomes another message.
type Store interface {
	// Counts returns the message-waiting counts of a mailbox (zero for an unknown mailbox).
	Counts(ctx context.Context, mailbox string) (Counts, error)
	// Count returns the number of messages in one folder.
	Count(ctx context.Context, mailbox string, f Folder) (int, error)
	// List returns the messages of one folder, oldest first (ascending ID).
	List(ctx context.Context, mailbox string, f Folder) ([]Message, error)
	// Open returns a message's envelope and its WAV file. The audio stays readable until
	// closed even if the message is deleted meanwhile.
	Open(ctx context.Context, mailbox string, id uint64) (Message, Audio, error)
	// Deposit starts recording a message into INBOX (Urgent when env.Urgent). It fails at once
	// with ErrMailboxFull when the folder already holds limits.MaxMessages messages. The
	// message becomes visible only when the Recording is committed.
	Deposit(ctx context.Context, mailbox string, env Envelope, limits Limits) (Recording, error)
	// Move moves a message to another folder, keeping its ID. Moving into a folder that holds
	// maxMessages messages or more fails with ErrMailboxFull (maxMessages < 0: no limit).
	Move(ctx context.Context, mailbox string, id uint64, to Folder, maxMessages int) (Message, error)
	// MarkRead moves a message from INBOX or Urgent to Old (an urgent one keeps its Urgent
	// flag); a message in any other folder is left as it is.
	MarkRead(ctx context.Context, mailbox string, id uint64) (Message, error)
	// Delete removes a message.
	Delete(ctx context.Context, mailbox string, id uint64) error
	// Greeting opens a greeting's WAV file; ErrNotFound when the mailbox has none of that kind.
	Greeting(ctx context.Context, mailbox string, g Greeting) (Audio, error)
	// PutGreeting records a greeting; committing it replaces the previous one atomically.
	// limits.MinDuration and limits.MaxGreeting apply; limits.MaxMessages does not.
	PutGreeting(ctx context.Context, mailbox string, g Greeting, codec string, limits Limits) (Recording, error)
	// DeleteGreeting removes a greeting (no error when there is none).
	DeleteGreeting(ctx context.Context, mailbox string, g Greeting) error
	// Watch reports a mailbox's counts at once and after every change, by this process or
	// another, until ctx ends; then the channel is closed. The channel holds one value: a
	// slow reader sees the latest counts, never a backlog.
	Watch(ctx context.Context, mailbox string) (<-chan Counts, error)
}

// Audio is a stored WAV file, open for reading.
type Audio interface {
	io.ReadSeekCloser
	io.ReaderAt
}

// Recording is a message or greeting being written. Write methods are not safe for concurrent
// use; exactly one of Commit or Discard ends it (Discard after Commit is a no-op, so
// `defer rec.Discard()` is the usual pattern).
type Recording interface {
	// WritePCM appends 16-bit linear samples at the codec's rate (8000 Hz for G.711, 16000 for
	// G.722). Past the maximum duration it keeps what fits and returns ErrMaxDuration.
	WritePCM(samples []int16) error
	// WritePayload appends raw G.711 payload of the recording's own codec (pcmu or pcma),
	// stored as is; other codecs return ErrFormat.
	WritePayload(payload []byte) error
	// SampleRate is the rate WritePCM expects: 8000 for G.711, 16000 for G.722.
	SampleRate() int
	// Duration is the audio written so far.
	Duration() time.Duration
	// Commit makes the recording visible. An empty recording, or one shorter than the
	// minimum, is discarded with ErrTooShort; a mailbox filled meanwhile gives ErrMailboxFull. For a message it
	// returns the stored envelope.
	Commit() (Message, error)
	// Discard drops the recording; nothing of it remains.
	Discard() error
}

// Counts are the message-waiting counts of RFC 3842: New and Old count every message, the
// urgent ones included; UrgentNew and UrgentOld count the urgent ones among them.
type Counts struct {
	New, Old, UrgentNew, UrgentOld int
}

// Envelope is what the depositor knows of a message.
type Envelope struct {
	// CallerID is the caller's number or URI, CallerName the display name (either may be empty).
	CallerID, CallerName string
	// Time is when the call arrived (now when zero).
	Time time.Time
	// Urgent deposits into the Urgent folder.
	Urgent bool
	// Codec is the caller's codec, a media/codecs name or alias: "pcmu", "pcma" (stored as
	// G.711 WAV) or "g722" (stored as 16-bit PCM at 16 kHz). A media.Frame's Codec and
	// Samples go to Recording.WritePCM as they are.
	Codec string
}

// Message is a stored message's envelope.
type Message struct {
	// ID is the message number, unique in its mailbox for its lifetime and never reused.
	ID uint64
	// Folder is where the message is now.
	Folder Folder
	// UID is a random identifier that stays with the message across stores (export/import).
	UID        string
	CallerID   string
	CallerName string
	Time       time.Time
	Duration   time.Duration
	Urgent     bool
	// Codec is the codec the caller used; the WAV holds G.711 for pcmu/pcma, else 16-bit PCM.
	Codec string
}
