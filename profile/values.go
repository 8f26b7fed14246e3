package profile

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// parseBool accepts yes/no, true/false, on/off and 1/0 in any case; "" is false (unset).
func parseBool(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "yes", "true", "on", "1":
		return true, nil
	case "no", "false", "off", "0", "":
		return false, nil
	}
	return false, fmt.Errorf("%s is not a boolean (yes/no, true/false, on/off, 1/0)", quote(s))
}

// parseDTMF accepts the DTMF modes; rfc2833 is an alias of rfc4733 and "" is the default.
func parseDTMF(s string) (DTMFMode, error) {
	switch strings.ToLower(s) {
	case "", "rfc4733", "rfc2833":
		return DTMFRFC4733, nil
	case "info":
		return DTMFInfo, nil
	case "inband":
		return DTMFInband, nil
	case "auto":
		return DTMFAuto, nil
	}
	return "", fmt.Errorf("%s is not a DTMF mode (rfc4733, rfc2833, info, inband, auto)", quote(s))
}

// maxQuoted is the most bytes of a value an error message quotes: values may come from
// request headers, and errors reach logs.
const maxQuoted = 64

// quote quotes s for an error message, cut to maxQuoted bytes ("..." marks a cut).
func quote(s string) string {
	if len(s) <= maxQuoted {
		return strconv.Quote(s)
	}
	return strconv.Quote(s[:maxQuoted]) + "..."
}

// checkToken checks that s is 1..max bytes long and every byte is an ASCII letter, a digit or
// one of extra. what names the value in the error.
func checkToken(s string, max int, extra, what string) error {
	if len(s) > max {
		return fmt.Errorf("%s longer than %d bytes", what, max)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isAlnum(c) || strings.IndexByte(extra, c) >= 0 {
			continue
		}
		return fmt.Errorf("%s %s: character %q not allowed (letters, digits and %q only)", what, quote(s), c, extra)
	}
	return nil
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// checkUser checks a SIP user part: printable ASCII without spaces and without the
// characters that delimit a URI or an address (<>"@:;,).
func checkUser(s string) error {
	if len(s) > 128 {
		return fmt.Errorf("longer than 128 bytes")
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f || strings.IndexByte(`<>"@:;,`, c) >= 0 {
			return fmt.Errorf("%s: character %q not allowed in a user part", quote(s), c)
		}
	}
	return nil
}

// checkText checks free text: at most max bytes, no control characters other than tab.
func checkText(s string, max int, what string) error {
	if len(s) > max {
		return fmt.Errorf("%s longer than %d bytes", what, max)
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' && c != '\t' || c == 0x7f {
			return fmt.Errorf("%s contains control character %q", what, c)
		}
	}
	return nil
}

// checkPIN checks a voicemail PIN: 1..32 digits.
func checkPIN(s string) error {
	if len(s) > 32 {
		return fmt.Errorf("mailbox PIN longer than 32 digits")
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			// the PIN itself is a secret: never echo it
			return fmt.Errorf("mailbox PIN must be digits only")
		}
	}
	return nil
}

// parseCallerID accepts `"Name" <number>`, `Name <number>`, `<number>` and `number`. A quoted
// name is a SIP quoted-string (RFC 3261 section 25.1): inside the quotes `\"` is a quote, `\\`
// a backslash, and "<", ">" and "," are plain text, so `"Bob \"The Builder\"" <1001>` gives
// the name `Bob "The Builder"`. An unquoted name may not contain `"`, "<" or ">".
func parseCallerID(s string) (CallerID, error) {
	if s == "" {
		return CallerID{}, nil
	}
	if err := checkText(s, 256, "caller id"); err != nil {
		return CallerID{}, err
	}
	bad := func() error {
		return fmt.Errorf("%s: want \"Name\" <number>, Name <number> or number", quote(s))
	}
	var id CallerID
	rest := strings.TrimSpace(s)
	switch {
	case strings.HasPrefix(rest, `"`):
		name, after, ok := cutQuoted(rest[1:])
		if !ok {
			return CallerID{}, bad()
		}
		after = strings.TrimSpace(after)
		if len(after) < 2 || after[0] != '<' || !strings.HasSuffix(after, ">") ||
			strings.ContainsAny(after[1:len(after)-1], "<>") {
			return CallerID{}, bad()
		}
		id.Name, id.Number = strings.TrimSpace(name), strings.TrimSpace(after[1:len(after)-1])
	case strings.IndexByte(rest, '<') >= 0:
		lt := strings.IndexByte(rest, '<')
		if !strings.HasSuffix(rest, ">") || strings.Count(rest, "<") != 1 || strings.Count(rest, ">") != 1 {
			return CallerID{}, bad()
		}
		name := rest[:lt]
		if strings.Contains(name, `"`) {
			return CallerID{}, bad()
		}
		id.Name, id.Number = strings.TrimSpace(name), strings.TrimSpace(rest[lt+1:len(rest)-1])
	default:
		id.Number = rest
	}
	if id.Number == "" && id.Name == "" {
		return CallerID{}, bad()
	}
	if id.Number != "" {
		if err := checkToken(id.Number, 64, "+*#._-", "number"); err != nil {
			return CallerID{}, err
		}
	}
	return id, nil
}

// cutQuoted reads a quoted-string's content up to its closing quote (s starts just after the
// opening one), undoing backslash escapes. It returns the content and the text after the
// closing quote; ok is false when the quote is not closed.
func cutQuoted(s string) (content, after string, ok bool) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' && i+1 < len(s):
			i++
			b.WriteByte(s[i])
		case c == '"':
			return b.String(), s[i+1:], true
		default:
			b.WriteByte(c)
		}
	}
	return "", "", false
}

// parseVar accepts NAME=value with NAME a channel variable name (a letter or underscore, then
// letters, digits and underscores).
func parseVar(s string) (Var, error) {
	name, value, ok := strings.Cut(s, "=")
	name = strings.TrimSpace(name)
	if !ok || name == "" {
		return Var{}, fmt.Errorf("%s: want NAME=value", quote(s))
	}
	if c := name[0]; c >= '0' && c <= '9' {
		return Var{}, fmt.Errorf("name %s must not start with a digit", quote(name))
	}
	if err := checkToken(name, 64, "_", "name"); err != nil {
		return Var{}, err
	}
	value = strings.TrimSpace(value)
	if err := checkText(value, 1024, "value"); err != nil {
		return Var{}, err
	}
	return Var{Name: name, Value: value}, nil
}

// checkSIPURI checks that s is a sip: or sips: URI with a host: [user[:password]@]host[:port]
// [;params][?headers], host being a domain name, an IPv4 address or a bracketed IPv6 address.
func checkSIPURI(s string) error {
	if len(s) > 1024 {
		return fmt.Errorf("longer than 1024 bytes")
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f {
			return fmt.Errorf("%s: character %q not allowed in a SIP URI", quote(s), c)
		}
	}
	scheme, rest, ok := strings.Cut(s, ":")
	if !ok || !strings.EqualFold(scheme, "sip") && !strings.EqualFold(scheme, "sips") {
		return fmt.Errorf("%s is not a sip: or sips: URI", quote(s))
	}
	if i := strings.IndexAny(rest, ";?"); i >= 0 {
		rest = rest[:i]
	}
	if at := strings.LastIndexByte(rest, '@'); at >= 0 {
		if at == 0 {
			return fmt.Errorf("%s: empty user part before @", quote(s))
		}
		rest = rest[at+1:]
	}
	host, port := rest, ""
	if strings.HasPrefix(rest, "[") {
		end := strings.IndexByte(rest, ']')
		if end < 0 {
			return fmt.Errorf("%s: unclosed [ in IPv6 host", quote(s))
		}
		host, port = rest[1:end], rest[end+1:]
		if a, err := netip.ParseAddr(host); err != nil || !a.Is6() {
			return fmt.Errorf("%s: %s is not an IPv6 address", quote(s), quote(host))
		}
		if port != "" && !strings.HasPrefix(port, ":") {
			return fmt.Errorf("%s: unexpected %s after host", quote(s), quote(port))
		}
		port = strings.TrimPrefix(port, ":")
	} else if h, p, ok := strings.Cut(rest, ":"); ok {
		host, port = h, p
		if port == "" {
			return fmt.Errorf("%s: empty port", quote(s))
		}
	}
	if host == "" {
		return fmt.Errorf("%s has no host", quote(s))
	}
	if !strings.HasPrefix(rest, "[") {
		if err := checkHost(host); err != nil {
			return fmt.Errorf("%s: %w", quote(s), err)
		}
	}
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("%s: port %s out of range 1-65535", quote(s), quote(port))
		}
	}
	return nil
}

// checkHost accepts a domain name (labels of letters, digits and hyphens) or an IPv4 address.
func checkHost(h string) error {
	if len(h) > 253 {
		return fmt.Errorf("host longer than 253 bytes")
	}
	for label := range strings.SplitSeq(strings.TrimSuffix(h, "."), ".") {
		if label == "" || label[0] == '-' || label[len(label)-1] == '-' {
			return fmt.Errorf("host %s is not a domain name or IP address", quote(h))
		}
		for i := 0; i < len(label); i++ {
			if !isAlnum(label[i]) && label[i] != '-' {
				return fmt.Errorf("host %s is not a domain name or IP address", quote(h))
			}
		}
	}
	return nil
}

// parseMaxMsg parses mailbox-maxmsg: 0-9999 messages; "" unsets it (the [voicemail] default).
func parseMaxMsg(s string) (*int, error) {
	if s == "" {
		return nil, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > 9999 {
		return nil, fmt.Errorf("%s is not a number of messages 0-9999", quote(s))
	}
	return &n, nil
}

// parseMailboxSecs parses mailbox-maxsecs and mailbox-minsecs: a duration up to an hour
// ("90s", "2m") or whole seconds as in voicemail.conf ("90"); "" unsets it.
func parseMailboxSecs(s string) (*time.Duration, error) {
	if s == "" {
		return nil, nil
	}
	d, err := time.ParseDuration(s)
	if n, nerr := strconv.Atoi(s); nerr == nil {
		d, err = time.Duration(n)*time.Second, nil
	}
	if err != nil || d < 0 || d > time.Hour {
		return nil, fmt.Errorf("%s is not a duration 0-1h (90s, 2m, or seconds)", quote(s))
	}
	return &d, nil
}
