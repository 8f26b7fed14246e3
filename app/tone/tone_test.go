package tone

import (
	"io"
	"testing"
	"time"
)

func TestGeneratorLengthAndCadence(t *testing.T) {
	for _, tc := range []struct {
		name  string
		rate  int
		total time.Duration
		want  int
	}{
		{"beep", 8000, 0, 2000},             // one pass: 250 ms
		{"busy", 16000, time.Second, 16000}, // 1 s at 16 kHz
		{"ringback", 8000, 0, 48000},        // one 6 s cadence
	} {
		g := New(Tones[tc.name], tc.rate, tc.total)
		frame := make([]int16, 160)
		n, silent := 0, 0
		for {
			k, err := g.ReadFrame(frame)
			n += k
			for _, s := range frame[:k] {
				if s == 0 {
					silent++
				}
			}
			if err == io.EOF {
				break
			}
		}
		if n != tc.want {
			t.Errorf("%s: %d samples, want %d", tc.name, n, tc.want)
		}
		if tc.name == "ringback" && (silent < 31000 || silent > 33000) {
			t.Errorf("ringback: %d silent samples, want about 32000 (4 s off)", silent)
		}
	}
}
