package fsstore

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sidecar-voip/sidecar/voicemail"
	"github.com/sidecar-voip/sidecar/voicemail/internal/deposit"
)

// The metadata file (NNNNNNNNNN.txt beside NNNNNNNNNN.wav) is UTF-8 text, one key=value a line,
// LF line ends, after a first line naming the format and its version:
//
//	sidecar-voicemail 1
//	uid=9f86d081884c7d659a2feaa0c55ad015
//	time=2026-12-06T03:58:32.123456789Z
//	duration-ms=12340
//	codec=pcmu
//	urgent=no
//	caller-id="sip:1001@example.com"
//	caller-name="Bob \"the builder\""
//
// Every key appears exactly once, in any order; strings are Go-quoted so no value can break a
// line. The folder is the directory the file is in and the message number its name: moving a
// message is one rename, never a rewrite. Anything else is an error naming the line.
const (
	metaHeader  = "sidecar-voicemail 1"
	maxMetaSize = 4096
	maxMetaStr  = 512
)

var errMeta = errors.New("bad message metadata")

var metaKeys = []string{"uid", "time", "duration-ms", "codec", "urgent", "caller-id", "caller-name"}

// formatMeta renders a message's metadata (ID and Folder are not part of it).
func formatMeta(m voicemail.Message) []byte {
	var b bytes.Buffer
	b.WriteString(metaHeader + "\n")
	fmt.Fprintf(&b, "uid=%s\n", m.UID)
	fmt.Fprintf(&b, "time=%s\n", m.Time.UTC().Format(time.RFC3339Nano))
	fmt.Fprintf(&b, "duration-ms=%d\n", m.Duration.Milliseconds())
	fmt.Fprintf(&b, "codec=%s\n", m.Codec)
	fmt.Fprintf(&b, "urgent=%s\n", map[bool]string{true: "yes", false: "no"}[m.Urgent])
	fmt.Fprintf(&b, "caller-id=%s\n", strconv.Quote(clip(m.CallerID)))
	fmt.Fprintf(&b, "caller-name=%s\n", strconv.Quote(clip(m.CallerName)))
	return b.Bytes()
}

// clip bounds a string to maxMetaStr bytes of valid UTF-8.
func clip(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	for len(s) > maxMetaStr {
		_, n := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-n]
	}
	return s
}

// parseMeta parses a metadata file strictly; name prefixes its errors (name:line: message).
func parseMeta(name string, b []byte) (voicemail.Message, error) {
	var m voicemail.Message
	fail := func(line int, format string, a ...any) (voicemail.Message, error) {
		return voicemail.Message{}, fmt.Errorf("%s:%d: %w: %s", name, line, errMeta, fmt.Sprintf(format, a...))
	}
	if len(b) > maxMetaSize {
		return fail(0, "%d bytes is over %d", len(b), maxMetaSize)
	}
	if !utf8.Valid(b) {
		return fail(0, "not UTF-8")
	}
	s := string(b)
	if !strings.HasSuffix(s, "\n") {
		return fail(strings.Count(s, "\n")+1, "no line end at the end of the file")
	}
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	if lines[0] != metaHeader {
		return fail(1, "first line %q, want %q", lines[0], metaHeader)
	}
	seen := map[string]bool{}
	for i, line := range lines[1:] {
		n := i + 2
		key, val, ok := strings.Cut(line, "=")
		if !ok {
			return fail(n, "want key=value")
		}
		if seen[key] {
			return fail(n, "%s given twice", key)
		}
		seen[key] = true
		switch key {
		case "uid":
			if len(val) != 32 || strings.Trim(val, "0123456789abcdef") != "" {
				return fail(n, "uid %q is not 32 lower-case hex digits", val)
			}
			m.UID = val
		case "time":
			t, err := time.Parse(time.RFC3339Nano, val)
			if err != nil || !strings.HasSuffix(val, "Z") {
				return fail(n, "time %q is not RFC 3339 UTC", val)
			}
			m.Time = t
		case "duration-ms":
			d, err := strconv.ParseUint(val, 10, 32)
			if err != nil || (len(val) > 1 && val[0] == '0') {
				return fail(n, "duration-ms %q is not a number of milliseconds", val)
			}
			m.Duration = time.Duration(d) * time.Millisecond
		case "codec":
			if _, ok := deposit.Storage(val); !ok {
				return fail(n, "unknown codec %q", val)
			}
			m.Codec = val
		case "urgent":
			switch val {
			case "yes":
				m.Urgent = true
			case "no":
			default:
				return fail(n, "urgent %q, want yes or no", val)
			}
		case "caller-id", "caller-name":
			v, err := strconv.Unquote(val)
			if err != nil || !strings.HasPrefix(val, `"`) || len(v) > maxMetaStr || !utf8.ValidString(v) || strconv.Quote(v) != val {
				return fail(n, "%s %s is not a quoted string of at most %d bytes", key, val, maxMetaStr)
			}
			if key == "caller-id" {
				m.CallerID = v
			} else {
				m.CallerName = v
			}
		default:
			return fail(n, "unknown key %q", key)
		}
	}
	for _, k := range metaKeys {
		if !seen[k] {
			return fail(len(lines), "%s missing", k)
		}
	}
	return m, nil
}
