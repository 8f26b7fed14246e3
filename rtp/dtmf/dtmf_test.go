package dtmf

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/zaf/g711"
)

func TestReceiverCountsRetransmittedEndsOnce(t *testing.T) {
	type pkt struct {
		ts uint32
		ev Event
	}
	for _, tc := range []struct {
		name string
		pkts []pkt
		want string
	}{
		{"three ends", []pkt{
			{100, Event{Code: 5, Duration: 160}}, {100, Event{Code: 5, Duration: 320}},
			{100, Event{Code: 5, End: true, Duration: 480}}, {100, Event{Code: 5, End: true, Duration: 480}}, {100, Event{Code: 5, End: true, Duration: 480}},
		}, "5/480"},
		{"same digit twice", []pkt{
			{100, Event{Code: 1, End: true, Duration: 400}}, {100, Event{Code: 1, End: true, Duration: 400}},
			{900, Event{Code: 1, Duration: 160}}, {900, Event{Code: 1, End: true, Duration: 400}},
		}, "1/400 1/400"},
		{"lost ends", []pkt{
			{100, Event{Code: 11, Duration: 160}}, {100, Event{Code: 11, Duration: 320}},
			{700, Event{Code: 10, Duration: 160}}, {700, Event{Code: 10, End: true, Duration: 320}},
		}, "#/320 */320"},
		{"new code at the same timestamp", []pkt{
			{100, Event{Code: 1, End: true, Duration: 400}}, {100, Event{Code: 2, End: true, Duration: 400}},
		}, "1/400 2/400"},
		{"flash is not a digit", []pkt{{100, Event{Code: 16, End: true, Duration: 160}}}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var r Receiver
			var got []string
			for _, p := range tc.pkts {
				r.Handle(p.ts, p.ev, func(d rune, u uint16) { got = append(got, string(d)+"/"+itoa(int(u))) })
			}
			if g := strings.Join(got, " "); g != tc.want {
				t.Errorf("got %q, want %q", g, tc.want)
			}
		})
	}
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	s := ""
	for ; n > 0; n /= 10 {
		s = string(rune('0'+n%10)) + s
	}
	return s
}

func TestEventRoundTrip(t *testing.T) {
	e := Event{Code: 11, End: true, Volume: 10, Duration: 1234}
	got, err := ParseEvent(e.Append(nil))
	if err != nil || got != e {
		t.Errorf("round trip %+v -> %+v, %v", e, got, err)
	}
	if _, err := ParseEvent([]byte{1, 2}); err == nil {
		t.Error("short payload accepted")
	}
}

func TestParseInfo(t *testing.T) {
	for _, tc := range []struct {
		ctype, body string
		digit       rune
		dur         time.Duration
		bad         bool
	}{
		{"application/dtmf-relay", "Signal=5\r\nDuration=160\r\n", '5', 160 * time.Millisecond, false},
		{"application/dtmf-relay", "Signal= #\nDuration= 250", '#', 250 * time.Millisecond, false},
		{"Application/DTMF-Relay; charset=x", "signal=11\r\n", '#', DefaultDuration, false},
		{"application/dtmf-relay", "Signal=*", '*', DefaultDuration, false},
		{"application/dtmf", "7\r\n", '7', DefaultDuration, false},
		{"application/dtmf", "d", 'D', DefaultDuration, false},
		{"application/dtmf-relay", "Duration=100", 0, 0, true},
		{"application/dtmf-relay", "Signal=55", 0, 0, true},
		{"application/dtmf-relay", "Signal=5\r\nDuration=-1", 0, 0, true},
		{"application/dtmf", "x", 0, 0, true},
		{"text/plain", "5", 0, 0, true},
		{"", "5", 0, 0, true},
	} {
		d, dur, err := ParseInfo(tc.ctype, []byte(tc.body))
		if tc.bad {
			if err == nil {
				t.Errorf("%s %q: no error", tc.ctype, tc.body)
			}
			continue
		}
		if err != nil || d != tc.digit || dur != tc.dur {
			t.Errorf("%s %q = %q %s %v, want %q %s", tc.ctype, tc.body, d, dur, err, tc.digit, tc.dur)
		}
	}
}

func tone(digit rune, rate int, ms int, amp float64) []int16 {
	var r, c int
	for i := range keypad {
		for j := range keypad[i] {
			if keypad[i][j] == digit {
				r, c = i, j
			}
		}
	}
	n := rate * ms / 1000
	out := make([]int16, n)
	for i := range out {
		t := float64(i) / float64(rate)
		out[i] = int16(amp * (math.Sin(2*math.Pi*rowFreqs[r]*t) + math.Sin(2*math.Pi*colFreqs[c]*t)))
	}
	return out
}

func TestDetector(t *testing.T) {
	for _, rate := range []int{8000, 16000} {
		det := NewDetector(rate)
		var got []rune
		emit := func(d rune) { got = append(got, d) }
		for _, d := range "0123456789*#ABCD" {
			det.Write(tone(d, rate, 80, 6000), emit)
			det.Write(make([]int16, rate*60/1000), emit) // inter-digit pause
		}
		if string(got) != "0123456789*#ABCD" {
			t.Errorf("%d Hz: detected %q", rate, string(got))
		}
	}
}

func TestDetectorThroughG711(t *testing.T) {
	det := NewDetector(8000)
	var got []rune
	for _, d := range "159#" {
		pcm := tone(d, 8000, 100, 5000)
		for i, s := range pcm {
			pcm[i] = g711.DecodeUlawFrame(g711.EncodeUlawFrame(s))
		}
		det.Write(pcm, func(d rune) { got = append(got, d) })
		det.Write(make([]int16, 400), func(d rune) { got = append(got, d) })
	}
	if string(got) != "159#" {
		t.Errorf("detected %q through mu-law", string(got))
	}
}

func TestDetectorRejects(t *testing.T) {
	det := NewDetector(8000)
	n := 0
	emit := func(rune) { n++ }
	// A single 1 kHz tone, a lone row tone, quiet digit, white-ish noise.
	one := make([]int16, 8000)
	for i := range one {
		one[i] = int16(8000 * math.Sin(2*math.Pi*1000*float64(i)/8000))
	}
	det.Write(one, emit)
	row := make([]int16, 8000)
	for i := range row {
		row[i] = int16(8000 * math.Sin(2*math.Pi*770*float64(i)/8000))
	}
	det.Write(row, emit)
	det.Write(tone('5', 8000, 200, 30), emit)
	noise := make([]int16, 8000)
	x := uint32(1)
	for i := range noise {
		x = x*1664525 + 1013904223
		noise[i] = int16(x >> 18)
	}
	det.Write(noise, emit)
	if n != 0 {
		t.Errorf("%d false detections", n)
	}
}

func TestDigitCode(t *testing.T) {
	for i, r := range "0123456789*#ABCD" {
		if c, ok := Code(r); !ok || c != uint8(i) || Digit(c) != r {
			t.Errorf("%q: code %d %v", r, c, ok)
		}
	}
	if _, ok := Code('x'); ok {
		t.Error("x has a code")
	}
}

func FuzzParseInfo(f *testing.F) {
	f.Add("application/dtmf-relay", []byte("Signal=5\r\nDuration=160\r\n"))
	f.Add("application/dtmf", []byte("#"))
	f.Fuzz(func(t *testing.T, ct string, body []byte) {
		d, dur, err := ParseInfo(ct, body)
		if err != nil {
			return
		}
		if _, ok := Code(d); !ok || dur <= 0 || dur > time.Minute {
			t.Fatalf("accepted digit %q duration %s", d, dur)
		}
	})
}
