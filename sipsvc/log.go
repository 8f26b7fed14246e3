package sipsvc

import (
	"context"
	"log/slog"
	"sync"

	"github.com/emiago/sipgo/sip"
)

// sipgoLoggerOnce guards sipgo's process-wide default logger, which a few sipgo layers read
// directly (TCP connection close, dialogs). It is set once, by the first Server of the
// process, before its user agent exists; setting it again while another Server's sipgo
// goroutines read it would race. Each Server's own layers log through the loggers passed
// to them, not through this default.
var sipgoLoggerOnce sync.Once

func setSipgoLogger(l *slog.Logger) {
	sipgoLoggerOnce.Do(func() { sip.SetDefaultLogger(l) })
}

// redactedKeys are sipgo log attributes that hold whole SIP messages ("failed to parse"
// logs the datagram). Messages may carry secrets (X-MailBoxPin), so their text is dropped.
var redactedKeys = map[string]bool{"data": true}

// redactHandler passes sipgo's records on without raw message dumps.
type redactHandler struct{ h slog.Handler }

func (r redactHandler) Enabled(ctx context.Context, l slog.Level) bool { return r.h.Enabled(ctx, l) }

func (r redactHandler) Handle(ctx context.Context, rec slog.Record) error {
	out := slog.NewRecord(rec.Time, rec.Level, rec.Message, rec.PC)
	rec.Attrs(func(a slog.Attr) bool {
		if redactedKeys[a.Key] {
			a = slog.Int("redacted_bytes", len(a.Value.String()))
		}
		out.AddAttrs(a)
		return true
	})
	return r.h.Handle(ctx, out)
}

func (r redactHandler) WithAttrs(as []slog.Attr) slog.Handler {
	kept := make([]slog.Attr, 0, len(as))
	for _, a := range as {
		if !redactedKeys[a.Key] {
			kept = append(kept, a)
		}
	}
	return redactHandler{r.h.WithAttrs(kept)}
}

func (r redactHandler) WithGroup(name string) slog.Handler { return redactHandler{r.h.WithGroup(name)} }
