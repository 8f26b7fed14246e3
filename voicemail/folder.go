package voicemail

import "strings"

// Folder names a message folder. The names are Asterisk's, so a mailbox directory reads the
// same to an operator used to it.
type Folder string

// The folders. New messages land in Inbox (Urgent when marked so); reading moves them to Old;
// key 9 of VoiceMailMain saves to any of them.
const (
	Inbox   Folder = "INBOX"
	Old     Folder = "Old"
	Work    Folder = "Work"
	Family  Folder = "Family"
	Friends Folder = "Friends"
	Urgent  Folder = "Urgent"
)

// Folders lists every folder in Asterisk's order (the digit VoiceMailMain's folder menu uses
// is the index: 0 INBOX ... 4 Friends; Urgent is reached through INBOX, as in Asterisk).
var Folders = [...]Folder{Inbox, Old, Work, Family, Friends, Urgent}

// Valid reports whether f is one of Folders.
func (f Folder) Valid() bool {
	for _, g := range Folders {
		if f == g {
			return true
		}
	}
	return false
}

// Greeting names a kind of greeting.
type Greeting string

// The greetings: unavailable, busy, temporary (played instead of both while it exists) and
// the mailbox owner's recorded name.
const (
	Unavail Greeting = "unavail"
	Busy    Greeting = "busy"
	Temp    Greeting = "temp"
	Name    Greeting = "name"
)

// Valid reports whether g is a known greeting.
func (g Greeting) Valid() bool {
	return g == Unavail || g == Busy || g == Temp || g == Name
}

// MaxMailboxLen bounds a mailbox name.
const MaxMailboxLen = 80

// ValidMailbox reports whether name can name a mailbox: 1 to MaxMailboxLen characters of
// letters, digits and . _ - + @ (Asterisk's "1001@default" included), not starting with a dot.
func ValidMailbox(name string) bool {
	if name == "" || len(name) > MaxMailboxLen || name[0] == '.' {
		return false
	}
	return strings.Trim(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-+@") == ""
}
