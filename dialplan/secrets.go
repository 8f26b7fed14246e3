package dialplan

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/sidecar-voip/sidecar/profile"
)

// minSecretLen is the shortest PIN that masking looks for: shorter values would mask
// unrelated arguments (a 1-digit PIN matches most numbers) and are too weak to protect.
const minSecretLen = 3

// mask is what a hidden argument reads as.
const mask = "****"

// pinValues returns the caller's and callee's mailbox PINs that are long enough to look for.
func pinValues(ps ...*profile.Profile) []string {
	var out []string
	for _, p := range ps {
		if p == nil {
			continue
		}
		if v := profile.RevealSecret(p.MailboxPIN); len(v) >= minSecretLen {
			out = append(out, v)
		}
	}
	return out
}

// containsSecret reports whether s contains one of secrets.
func containsSecret(s string, secrets []string) bool {
	for _, v := range secrets {
		if strings.Contains(s, v) {
			return true
		}
	}
	return false
}

// maskSecrets returns args with every argument that contains one of secrets replaced by
// "****" (a copy when any is).
func maskSecrets(args, secrets []string) []string {
	out := args
	copied := false
	for i, a := range args {
		if !containsSecret(a, secrets) {
			continue
		}
		if !copied {
			out, copied = append([]string(nil), args...), true
		}
		out[i] = mask
	}
	return out
}

// maskTarget masks the parts of a jump target that contain a secret.
func maskTarget(t Target, secrets []string) Target {
	m := maskSecrets([]string{t.Context, t.Exten, t.Priority}, secrets)
	return Target{Context: m[0], Exten: m[1], Priority: m[2]}
}

// redactedError is an error whose message has secrets replaced by "****"; Unwrap keeps the
// original for errors.Is and errors.As.
type redactedError struct {
	err     error
	secrets []string
}

func (e *redactedError) Error() string {
	s := e.err.Error()
	for _, v := range e.secrets {
		s = strings.ReplaceAll(s, v, mask)
	}
	return s
}

func (e *redactedError) Unwrap() error { return e.err }

// redact wraps err so that its message never shows one of secrets.
func redact(err error, secrets []string) error {
	if err == nil || len(secrets) == 0 || !containsSecret(err.Error(), secrets) {
		return err
	}
	return &redactedError{err: err, secrets: secrets}
}

// redactHandler is a slog.Handler that replaces secrets in the message and in every
// attribute (strings, errors, LogValuers, groups, other values by their text) with "****",
// so nothing an application logs for a call can show a PIN.
type redactHandler struct {
	h       slog.Handler
	secrets []string
}

// redactLogger wraps log so that its records never show one of secrets.
func redactLogger(log *slog.Logger, secrets []string) *slog.Logger {
	if len(secrets) == 0 {
		return log
	}
	return slog.New(&redactHandler{h: log.Handler(), secrets: secrets})
}

func (r *redactHandler) Enabled(ctx context.Context, l slog.Level) bool { return r.h.Enabled(ctx, l) }

func (r *redactHandler) Handle(ctx context.Context, rec slog.Record) error {
	out := slog.NewRecord(rec.Time, rec.Level, r.redact(rec.Message), rec.PC)
	rec.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(r.attr(a))
		return true
	})
	return r.h.Handle(ctx, out)
}

func (r *redactHandler) WithAttrs(as []slog.Attr) slog.Handler {
	red := make([]slog.Attr, len(as))
	for i, a := range as {
		red[i] = r.attr(a)
	}
	return &redactHandler{h: r.h.WithAttrs(red), secrets: r.secrets}
}

func (r *redactHandler) WithGroup(name string) slog.Handler {
	return &redactHandler{h: r.h.WithGroup(name), secrets: r.secrets}
}

func (r *redactHandler) redact(s string) string {
	for _, v := range r.secrets {
		s = strings.ReplaceAll(s, v, mask)
	}
	return s
}

func (r *redactHandler) attr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, r.redact(v.String()))
	case slog.KindGroup:
		g := v.Group()
		red := make([]any, len(g))
		for i, ga := range g {
			red[i] = r.attr(ga)
		}
		return slog.Group(a.Key, red...)
	case slog.KindAny:
		var text string
		if err, ok := v.Any().(error); ok {
			text = err.Error()
		} else {
			text = fmt.Sprint(v.Any())
		}
		if containsSecret(text, r.secrets) {
			return slog.String(a.Key, r.redact(text))
		}
	default: // numbers, bools, durations, times: by their text (a PIN logged as an int)
		if text := v.String(); containsSecret(text, r.secrets) {
			return slog.String(a.Key, r.redact(text))
		}
	}
	return slog.Attr{Key: a.Key, Value: v}
}
