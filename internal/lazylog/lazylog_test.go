package lazylog_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
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

// TestWith: lazylog.With writes what Logger.With writes, in fewer allocations (the
// attributes are not boxed and converted, the earlier With steps not copied).
func TestWith(t *testing.T) {
	var want, got bytes.Buffer
	base := func(b *bytes.Buffer) *slog.Logger {
		return slog.New(lazylog.New(slog.NewTextHandler(b, &slog.HandlerOptions{
			ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
				if a.Key == slog.TimeKey {
					return slog.Attr{}
				}
				return a
			},
		})))
	}
	base(&want).With("call_id", "a@b", "n", 3).With("context", "c").Warn("one", "x", 1)
	lazylog.With(lazylog.With(base(&got), slog.String("call_id", "a@b"), slog.Int("n", 3)), slog.String("context", "c")).Warn("one", "x", 1)
	if got.String() != want.String() {
		t.Errorf("lazylog.With wrote %q, Logger.With %q", got.String(), want.String())
	}
	if l := base(&got); lazylog.With(l) != l {
		t.Error("With without attributes is not the same logger")
	}

	quiet := slog.New(lazylog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelWarn})))
	quiet = quiet.With("a", "b").With("c", "d").With("e", "f")
	id, ctx := "call@host", "default"
	n := testing.AllocsPerRun(100, func() {
		l := lazylog.With(quiet, slog.String("call_id", id), slog.String("context", ctx))
		l.Info("not written")
	})
	// The attribute slice, the handler with its logger.
	if n > 2 {
		t.Errorf("With on a three-step logger: %v allocations, want <= 2", n)
	}
}

// TestConcurrentFirstWrite: loggers of one chain written at once for the first time each
// build the same handler, and every line carries every step's attributes.
func TestConcurrentFirstWrite(t *testing.T) {
	var mu sync.Mutex
	var out bytes.Buffer
	l := slog.New(lazylog.New(slog.NewTextHandler(&lockedWriter{mu: &mu, w: &out}, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	})))
	l = lazylog.With(lazylog.With(l, slog.String("a", "1")), slog.String("b", "2"))
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() { l.Info("x") })
	}
	wg.Wait()
	want := strings.Repeat("level=INFO msg=x a=1 b=2\n", 8)
	if out.String() != want {
		t.Errorf("wrote %q, want %q", out.String(), want)
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.w.Write(p)
}
