package lazylog_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/sidecar-voip/sidecar/internal/lazylog"
)

// TestSameOutput: through lazylog, records come out exactly as the wrapped handler writes
// them, attributes of With and groups included, for text and JSON.
func TestSameOutput(t *testing.T) {
	for _, mk := range []func(*bytes.Buffer) slog.Handler{
		func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
		func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
	} {
		var want, got bytes.Buffer
		emit := func(l *slog.Logger) {
			c := l.With("call_id", "a@b", "source", "127.0.0.1:5060")
			c.Info("one", "n", 1)
			g := c.WithGroup("media").With("port", 4000)
			g.Warn("two", "x", "y")
			c.With().Info("three") // With() with no attributes
			l.Info("four")
		}
		emit(slog.New(mk(&want)))
		emit(slog.New(lazylog.New(mk(&got))))
		strip := func(s string) string { // drop timestamps
			var out []string
			for _, line := range strings.Split(s, "\n") {
				if i := strings.Index(line, "level"); i >= 0 {
					line = line[i:]
				}
				out = append(out, line)
			}
			return strings.Join(out, "\n")
		}
		if strip(got.String()) != strip(want.String()) {
			t.Errorf("lazylog output\n%s\nwant\n%s", got.String(), want.String())
		}
	}
}

// countingHandler counts WithAttrs calls on the wrapped handler.
type countingHandler struct {
	slog.Handler
	withs *int
}

func (c countingHandler) WithAttrs(as []slog.Attr) slog.Handler {
	*c.withs++
	return countingHandler{c.Handler.WithAttrs(as), c.withs}
}

// TestNoFormattingBelowLevel: a logger whose records are all below the level never has
// its With attributes applied to the wrapped handler; one that writes has them applied once.
func TestNoFormattingBelowLevel(t *testing.T) {
	var buf bytes.Buffer
	withs := 0
	base := countingHandler{slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelWarn}), &withs}
	l := slog.New(lazylog.New(base))
	quiet := l.With("call_id", "x").With("context", "c")
	quiet.Info("not written")
	if withs != 0 || buf.Len() != 0 {
		t.Fatalf("below the level: %d WithAttrs on the wrapped handler, output %q", withs, buf.String())
	}
	quiet.Warn("written")
	quiet.Warn("again")
	if withs != 2 {
		t.Errorf("%d WithAttrs after two records, want 2 (the two With, applied once)", withs)
	}
	if !strings.Contains(buf.String(), "call_id=x context=c") {
		t.Errorf("output %q lacks the With attributes", buf.String())
	}
	if !l.Enabled(context.Background(), slog.LevelWarn) || l.Enabled(context.Background(), slog.LevelInfo) {
		t.Error("Enabled does not follow the wrapped handler")
	}
}
