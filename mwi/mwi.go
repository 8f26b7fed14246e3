// Package mwi formats and parses message-waiting bodies: RFC 3842's
// application/simple-message-summary, carried by NOTIFY and PUBLISH for the message-summary
// event package.
//
//	Messages-Waiting: yes
//	Message-Account: sip:alice@vmail.example.com
//	Voice-Message: 4/8 (1/2)
//
// Lines end in CRLF. New and old counts include the urgent ones given in parentheses.
package mwi

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ContentType is the body's media type; Event is the event package name.
const (
	ContentType = "application/simple-message-summary"
	Event       = "message-summary"
)

// MaxBody bounds a body Parse accepts.
const MaxBody = 64 << 10

// ErrSyntax reports a body that is not a valid message summary.
var ErrSyntax = errors.New("bad message summary")

// Message context classes (RFC 3458) a summary line may name.
const (
	Voice      = "voice-message"
	Fax        = "fax-message"
	Pager      = "pager-message"
	Multimedia = "multimedia-message"
	Text       = "text-message"
	None       = "none"
)

// classes maps lower-case class names to the capitalisation Format writes.
var classes = map[string]string{
	Voice: "Voice-Message", Fax: "Fax-Message", Pager: "Pager-Message",
	Multimedia: "Multimedia-Message", Text: "Text-Message", None: "None",
}

// Counts are one class's message counts; the urgent ones are part of New and Old. The field
// set matches voicemail.Counts, so one converts to the other.
type Counts struct {
	New, Old, UrgentNew, UrgentOld int
}

// Line is one msg-summary-line.
type Line struct {
	// Class is a message context class in lower case (Voice, Fax, ...).
	Class  string
	Counts Counts
	// Urgent tells whether the line carries the parenthesised urgent counts. Format writes
	// them when set or when either is non-zero.
	Urgent bool
}

// Header is one of the optional message headers after the summary (RFC 3842 section 5.2's
// opt-msg-headers), kept as text.
type Header struct {
	Name, Value string
}

// Summary is a message-summary body.
type Summary struct {
	Waiting bool
	// Account is the Message-Account URI; empty omits the line.
	Account string
	Lines   []Line
	// Headers follow an empty line; Format writes them as given.
	Headers []Header
}

// ForVoice is the summary a voice mailbox publishes: waiting when it holds new messages, with
// one Voice-Message line carrying the urgent counts too, as Asterisk sends it.
func ForVoice(account string, c Counts) Summary {
	return Summary{Waiting: c.New > 0, Account: account, Lines: []Line{{Class: Voice, Counts: c, Urgent: true}}}
}

// Voice returns the voice-message counts, if the summary has them.
func (s Summary) Voice() (Counts, bool) {
	for _, l := range s.Lines {
		if l.Class == Voice {
			return l.Counts, true
		}
	}
	return Counts{}, false
}

const maxCount = 1<<32 - 1

// Format renders the body. It fails on what would not parse back: an account URI without a
// scheme or with white space or control characters, an unknown class, a count outside
// 0..2^32-1, or a header line that is not a name and a single-line value.
func Format(s Summary) ([]byte, error) {
	var b strings.Builder
	if s.Waiting {
		b.WriteString("Messages-Waiting: yes\r\n")
	} else {
		b.WriteString("Messages-Waiting: no\r\n")
	}
	if s.Account != "" {
		if err := checkURI(s.Account); err != nil {
			return nil, err
		}
		b.WriteString("Message-Account: " + s.Account + "\r\n")
	}
	seen := map[string]bool{}
	for _, l := range s.Lines {
		name, ok := classes[l.Class]
		if !ok || seen[l.Class] {
			return nil, fmt.Errorf("%w: class %q unknown or repeated", ErrSyntax, l.Class)
		}
		seen[l.Class] = true
		c := l.Counts
		for _, n := range []int{c.New, c.Old, c.UrgentNew, c.UrgentOld} {
			if n < 0 || n > maxCount {
				return nil, fmt.Errorf("%w: count %d out of range", ErrSyntax, n)
			}
		}
		fmt.Fprintf(&b, "%s: %d/%d", name, c.New, c.Old)
		if l.Urgent || c.UrgentNew != 0 || c.UrgentOld != 0 {
			fmt.Fprintf(&b, " (%d/%d)", c.UrgentNew, c.UrgentOld)
		}
		b.WriteString("\r\n")
	}
	if len(s.Headers) > 0 {
		b.WriteString("\r\n")
		for _, h := range s.Headers {
			if !token(h.Name) || strings.ContainsAny(h.Value, "\r\n") {
				return nil, fmt.Errorf("%w: header %q", ErrSyntax, h.Name)
			}
			b.WriteString(h.Name + ": " + h.Value + "\r\n")
		}
	}
	return []byte(b.String()), nil
}

// checkURI accepts scheme ":" followed by visible characters (SIP-URI, SIPS-URI,
// absoluteURI).
func checkURI(u string) error {
	scheme, rest, ok := strings.Cut(u, ":")
	if !ok || scheme == "" || rest == "" || !isAlpha(scheme[0]) ||
		strings.Trim(strings.ToLower(scheme), "abcdefghijklmnopqrstuvwxyz0123456789+-.") != "" {
		return fmt.Errorf("%w: account %q is not a URI", ErrSyntax, u)
	}
	for i := 0; i < len(rest); i++ {
		if rest[i] <= ' ' || rest[i] == 0x7f {
			return fmt.Errorf("%w: account %q is not a URI", ErrSyntax, u)
		}
	}
	return nil
}

func isAlpha(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

// token reports an RFC 3261 token (a header name).
func token(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(isAlpha(c) || c >= '0' && c <= '9' || strings.IndexByte("-.!%*_+`'~", c) >= 0) {
			return false
		}
	}
	return true
}

// Parse parses a body. Lines must end in CRLF; header names are case-insensitive and white
// space around the colon is allowed (HCOLON); Messages-Waiting comes first, then
// Message-Account if present, then the summary lines, each class at most once, then
// optionally an empty line and message headers. Errors say which line is wrong.
func Parse(body []byte) (Summary, error) {
	var s Summary
	if len(body) > MaxBody {
		return s, fmt.Errorf("%w: %d bytes is over %d", ErrSyntax, len(body), MaxBody)
	}
	text := string(body)
	if !strings.HasSuffix(text, "\r\n") {
		return s, fmt.Errorf("%w: the body does not end in CRLF", ErrSyntax)
	}
	lines := strings.Split(strings.TrimSuffix(text, "\r\n"), "\r\n")
	fail := func(i int, format string, a ...any) (Summary, error) {
		return Summary{}, fmt.Errorf("%w: line %d: %s", ErrSyntax, i+1, fmt.Sprintf(format, a...))
	}
	seen := map[string]bool{}
	for i, line := range lines {
		if strings.ContainsAny(line, "\r\n") {
			return fail(i, "bare CR or LF")
		}
		if line == "" {
			if i == 0 {
				return fail(i, "want Messages-Waiting")
			}
			for j, h := range lines[i+1:] {
				name, value, ok := header(h)
				if !ok || strings.ContainsAny(h, "\r\n") {
					return fail(i+1+j, "want a header")
				}
				s.Headers = append(s.Headers, Header{Name: name, Value: value})
			}
			return s, nil
		}
		name, value, ok := header(line)
		if !ok {
			return fail(i, "want name: value")
		}
		lname := strings.ToLower(name)
		switch {
		case i == 0:
			if lname != "messages-waiting" {
				return fail(i, "%s before Messages-Waiting", name)
			}
			switch strings.ToLower(value) {
			case "yes":
				s.Waiting = true
			case "no":
			default:
				return fail(i, "Messages-Waiting %q, want yes or no", value)
			}
		case lname == "message-account":
			if i != 1 {
				return fail(i, "Message-Account must follow Messages-Waiting")
			}
			if err := checkURI(value); err != nil {
				return fail(i, "%v", err)
			}
			s.Account = value
		default:
			if _, ok := classes[lname]; !ok {
				return fail(i, "unknown message class %q", name)
			}
			if seen[lname] {
				return fail(i, "%s repeated", name)
			}
			seen[lname] = true
			l, err := parseCounts(value)
			if err != nil {
				return fail(i, "%s: %v", name, err)
			}
			l.Class = lname
			s.Lines = append(s.Lines, l)
		}
	}
	return s, nil
}

// header splits "name HCOLON value": HCOLON is *( SP / HTAB ) ":" SWS.
func header(line string) (name, value string, ok bool) {
	name, value, ok = strings.Cut(line, ":")
	name = strings.TrimRight(name, " \t")
	if !ok || !token(name) {
		return "", "", false
	}
	return name, strings.Trim(value, " \t"), true
}

// parseCounts parses "newmsgs SLASH oldmsgs [ LPAREN new-urgentmsgs SLASH old-urgentmsgs
// RPAREN ]", where SLASH, LPAREN and RPAREN allow white space around them (RFC 3261 SWS).
func parseCounts(v string) (Line, error) {
	var l Line
	main, urgent, hasUrgent := strings.Cut(v, "(")
	n, o, err := pair(main)
	if err != nil {
		return l, err
	}
	l.Counts.New, l.Counts.Old = n, o
	if hasUrgent {
		inner, ok := strings.CutSuffix(strings.TrimRight(urgent, " \t"), ")")
		if !ok {
			return l, errors.New("no closing parenthesis")
		}
		un, uo, err := pair(inner)
		if err != nil {
			return l, err
		}
		if un > n || uo > o {
			return l, fmt.Errorf("urgent counts %d/%d over the totals %d/%d", un, uo, n, o)
		}
		l.Counts.UrgentNew, l.Counts.UrgentOld, l.Urgent = un, uo, true
	}
	return l, nil
}

func pair(s string) (int, int, error) {
	a, b, ok := strings.Cut(s, "/")
	if !ok {
		return 0, 0, fmt.Errorf("%q is not new/old", s)
	}
	x, err := count(a)
	if err != nil {
		return 0, 0, err
	}
	y, err := count(b)
	if err != nil {
		return 0, 0, err
	}
	return x, y, nil
}

// count parses msgcount = 1*DIGIT, at most 2^32-1.
func count(s string) (int, error) {
	s = strings.Trim(s, " \t")
	if s == "" || strings.Trim(s, "0123456789") != "" {
		return 0, fmt.Errorf("count %q is not digits", s)
	}
	v, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("count %q over 2^32-1", s)
	}
	return int(v), nil
}
