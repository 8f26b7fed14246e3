package voicemail

import "errors"

var (
	// ErrMailboxFull reports a deposit or move into a folder at its message limit.
	ErrMailboxFull = errors.New("mailbox full")
	// ErrTooShort reports a recording under the minimum duration; it was discarded.
	ErrTooShort = errors.New("recording too short")
	// ErrMaxDuration reports audio written past the maximum duration; it was cut there.
	ErrMaxDuration = errors.New("maximum duration reached")
	// ErrDiskFull reports a store out of space; the recording was dropped, nothing partial
	// remains. The underlying error (syscall.ENOSPC, EDQUOT) stays wrapped.
	ErrDiskFull = errors.New("voicemail store full")
	// ErrNotFound reports a message or greeting that does not exist (any more).
	ErrNotFound = errors.New("not found")
	// ErrMailbox reports an invalid mailbox name.
	ErrMailbox = errors.New("invalid mailbox name")
	// ErrFolder reports an unknown folder or greeting kind.
	ErrFolder = errors.New("invalid folder")
	// ErrFormat reports a codec the store cannot record, or audio of the wrong kind.
	ErrFormat = errors.New("unsupported audio format")
	// ErrUnavailable reports a shared store that cannot be reached (database down or
	// unreachable, or no answer within the store's operation timeout); the operation did
	// nothing and may be tried again later. Callers answer with their fallback (a prompt,
	// 503) instead of waiting.
	ErrUnavailable = errors.New("voicemail store unavailable")
	// ErrClosed reports a Recording used after Commit or Discard, or a closed store.
	ErrClosed = errors.New("closed")
)
