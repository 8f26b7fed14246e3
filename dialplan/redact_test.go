package dialplan

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// TestRedactLoggerEveryKind logs a PIN through every kind of slog value; none may print it.
func TestRedactLoggerEveryKind(t *testing.T) {
	var buf bytes.Buffer
	log := redactLogger(slog.New(slog.NewTextHandler(&buf, nil)), []string{"4711"})
	log.With("pre", 4711).Info("pin 4711",
		"s", "x4711x", "i", 4711, "u", uint64(4711), "f", 4711.0, "d", 4711*time.Millisecond,
		"any", []int{4711}, slog.Group("g", "i", 4711))
	if out := buf.String(); strings.Contains(out, "4711") {
		t.Errorf("the PIN reached the log:\n%s", out)
	}
	buf.Reset()
	log.Info("other", "i", 4712, "b", true)
	if out := buf.String(); !strings.Contains(out, "i=4712") || !strings.Contains(out, "b=true") {
		t.Errorf("values that are not secrets were changed:\n%s", out)
	}
}
