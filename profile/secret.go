package profile

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
)

// Secret is a value that must not reach logs, traces or template output, such as a voicemail
// PIN. Its value is unexported and no method returns it: every way of formatting it (String,
// fmt verbs, JSON, slog) prints "****" ("" when empty), and templates, which can call exported
// methods and read exported fields only, cannot reach it. Code that needs the value (a PIN
// check, "sidecar render -show-secrets") calls RevealSecret. The zero Secret is empty.
type Secret struct{ v string }

// NewSecret returns a Secret holding v.
func NewSecret(v string) Secret { return Secret{v: v} }

// RevealSecret returns the value of s. It is a function, not a method, so that dialplan and
// profile templates cannot call it.
func RevealSecret(s Secret) string { return s.v }

// SecretEqual reports whether s holds exactly v, in time independent of where they differ and
// of their lengths (both are hashed first): the voicemail PIN check. An empty secret equals
// nothing, not even "".
func SecretEqual(s Secret, v string) bool {
	if s.v == "" {
		return false
	}
	a, b := sha256.Sum256([]byte(s.v)), sha256.Sum256([]byte(v))
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}

// String masks the secret: "****", or "" when it is empty.
func (s Secret) String() string {
	if s.v == "" {
		return ""
	}
	return "****"
}

// IsZero reports whether the secret is empty (for the omitzero JSON option).
func (s Secret) IsZero() bool { return s.v == "" }

// Format masks the secret for every fmt verb, %d and %x included.
func (s Secret) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, s.String()) }

// MarshalJSON masks the secret, so a profile marshalled for a log or an API never carries the
// PIN.
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// GoString masks the secret for %#v.
func (s Secret) GoString() string { return `"` + s.String() + `"` }

// LogValue masks the secret for log/slog.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// LogValue makes a Profile safe to log with log/slog: its identity fields (template, user,
// context, mailbox id, codecs, flags, caller id, language, DTMF mode), the PIN masked, and
// only the NAMES of its parameters, variables and custom fields, whose values operators may
// use for tokens.
func (p *Profile) LogValue() slog.Value {
	if p == nil {
		return slog.StringValue("<nil>")
	}
	attrs := []slog.Attr{
		slog.String("template", p.Template),
		slog.String("user", p.User),
		slog.Any("codecs", p.Codecs),
		slog.String("context", p.Context),
		slog.String("mailbox_id", p.MailboxID),
		slog.String("mailbox_pin", p.MailboxPIN.String()),
		slog.Bool("mwi", p.MWI),
		slog.String("location", p.Location),
		slog.Bool("publish_dialog_info", p.PublishDialogInfo),
		slog.String("callerid_name", p.CallerID.Name),
		slog.String("callerid_number", p.CallerID.Number),
		slog.String("language", p.Language),
		slog.String("dtmf_mode", string(p.DTMFMode)),
	}
	if len(p.Params) > 0 {
		attrs = append(attrs, slog.Any("params", sortedKeys(p.Params)))
	}
	if len(p.Vars) > 0 {
		names := make([]string, len(p.Vars))
		for i, v := range p.Vars {
			names[i] = v.Name
		}
		attrs = append(attrs, slog.Any("vars", names))
	}
	if len(p.Custom) > 0 {
		attrs = append(attrs, slog.Any("custom", sortedKeys(p.Custom)))
	}
	return slog.GroupValue(attrs...)
}

// sortedKeys returns the keys of m in order.
func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// SecretKey reports whether a template line of key holds a secret (mailbox-pin): tools that
// show template lines (the admin API) mask its value.
func SecretKey(key string) bool { return strings.EqualFold(strings.TrimSpace(key), "mailbox-pin") }
