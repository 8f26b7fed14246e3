package profile

import (
	"encoding/json"
	"log/slog"
)

// MarshalJSON masks the secret, so a profile marshalled for a log or an API never carries the
// PIN. Code that must show it (sidecar render -show-secrets) uses Reveal.
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// GoString masks the secret for %#v.
func (s Secret) GoString() string { return `"` + s.String() + `"` }

// LogValue masks the secret for log/slog.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// LogValue makes a Profile safe to log with log/slog: every field but the PIN, which is
// masked.
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
		attrs = append(attrs, slog.Any("params", p.Params))
	}
	if len(p.Vars) > 0 {
		attrs = append(attrs, slog.Any("vars", p.Vars))
	}
	if len(p.Custom) > 0 {
		attrs = append(attrs, slog.Any("custom", p.Custom))
	}
	return slog.GroupValue(attrs...)
}
