package app_test

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/zaf/g711"

	"github.com/sidecar-voip/sidecar/app"
	"github.com/sidecar-voip/sidecar/app/wav"
	"github.com/sidecar-voip/sidecar/dialplan"
	"github.com/sidecar-voip/sidecar/profile"
	"github.com/sidecar-voip/sidecar/rtp/dtmf"
	"github.com/sidecar-voip/sidecar/sounds"
)

func stockSamples(t *testing.T, name string) []int16 {
	t.Helper()
	b, err := sounds.FS.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	s, rate, err := wav.Decode(b)
	if err != nil || rate != 8000 {
		t.Fatalf("%s: %v, rate %d", name, err, rate)
	}
	return s
}

func TestPlaybackSendsTheFile(t *testing.T) {
	e := newEnv(t, "0")
	want := stockSamples(t, "hello.wav")
	if _, err := e.run(context.Background(), "Playback", "hello"); err != nil {
		t.Fatal(err)
	}
	if !e.ch.Answered() {
		t.Error("Playback did not answer")
	}
	if got := e.call.Var("PLAYBACKSTATUS"); got != "SUCCESS" {
		t.Errorf("PLAYBACKSTATUS %q", got)
	}
	pkts := e.recvAll(200 * time.Millisecond)
	wantPkts := (len(want) + 159) / 160
	if len(pkts) != wantPkts {
		t.Fatalf("%d packets for %d samples, want %d", len(pkts), len(want), wantPkts)
	}
	var got []int16
	for i, p := range pkts {
		if i > 0 && (p.Timestamp-pkts[i-1].Timestamp != 160 || p.SequenceNumber-pkts[i-1].SequenceNumber != 1) {
			t.Errorf("packet %d: ts +%d seq +%d", i, p.Timestamp-pkts[i-1].Timestamp, p.SequenceNumber-pkts[i-1].SequenceNumber)
		}
		for _, b := range p.Payload {
			got = append(got, g711.DecodeUlawFrame(b))
		}
	}
	// The audio is the file's, within mu-law's quantization error.
	for i, s := range want {
		if d := math.Abs(float64(got[i]) - float64(s)); d > math.Abs(float64(s))/16+16 {
			t.Fatalf("sample %d: sent %d, file has %d", i, got[i], s)
		}
	}
}

func TestPlaybackMissingAndUnsafeNames(t *testing.T) {
	e := newEnv(t, "0")
	for _, name := range []string{"no-such-prompt", "../../etc/passwd", "/etc/passwd", "hello.mp3"} {
		if _, err := e.run(context.Background(), "Playback", name); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got := e.call.Var("PLAYBACKSTATUS"); got != "FAILED" {
			t.Errorf("%s: PLAYBACKSTATUS %q, want FAILED", name, got)
		}
	}
	if _, err := e.run(context.Background(), "Playback", "beep", "bogus"); err == nil {
		t.Error("unknown option accepted")
	}
}

func TestPlaybackG722Resamples(t *testing.T) {
	e := newEnv(t, "9 0", "a=rtpmap:9 G722/8000")
	e.ch.codecs = []string{"g722", "pcmu"}
	if _, err := e.run(context.Background(), "Playback", "beep"); err != nil {
		t.Fatal(err)
	}
	pkts := e.recvAll(200 * time.Millisecond)
	// beep.wav: 0.25 s at 8 kHz -> 0.25 s at 16 kHz, 320 samples (160 bytes) per 20 ms packet.
	if len(pkts) != 13 {
		t.Fatalf("%d packets, want 13", len(pkts))
	}
	for i, p := range pkts {
		if p.PayloadType != 9 || len(p.Payload) != 160 {
			t.Fatalf("packet %d: pt %d, %d bytes", i, p.PayloadType, len(p.Payload))
		}
		if i > 0 && p.Timestamp-pkts[i-1].Timestamp != 160 {
			t.Errorf("packet %d: ts +%d, want +160 (G.722's 8 kHz RTP clock)", i, p.Timestamp-pkts[i-1].Timestamp)
		}
	}
}

func TestEarlyMediaPlaybackNoAnswer(t *testing.T) {
	e := newEnv(t, "0")
	if _, err := e.run(context.Background(), "Progress"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.run(context.Background(), "Playback", "beep", "noanswer"); err != nil {
		t.Fatal(err)
	}
	if e.ch.Answered() {
		t.Error("answered despite noanswer")
	}
	if n := len(e.recvAll(200 * time.Millisecond)); n != 13 {
		t.Errorf("%d early media packets, want 13", n)
	}
}

func TestPlayTones(t *testing.T) {
	e := newEnv(t, "8")
	if _, err := e.run(context.Background(), "PlayTones", "busy", "1"); err != nil {
		t.Fatal(err)
	}
	pkts := e.recvAll(200 * time.Millisecond)
	if len(pkts) != 50 {
		t.Fatalf("%d packets for 1 s, want 50", len(pkts))
	}
	// Busy cadence: 0.5 s on, 0.5 s off.
	energy := func(p []byte) float64 {
		var s float64
		for _, b := range p {
			v := float64(g711.DecodeAlawFrame(b))
			s += v * v
		}
		return s / float64(len(p))
	}
	if energy(pkts[10].Payload) < 1e6 || energy(pkts[35].Payload) > 100 {
		t.Errorf("cadence wrong: on %.0f, off %.0f", energy(pkts[10].Payload), energy(pkts[35].Payload))
	}
	if _, err := e.run(context.Background(), "PlayTones", "siren"); err == nil {
		t.Error("unknown tone accepted")
	}
}

func TestReadRFC4733(t *testing.T) {
	e := newEnv(t, "0 101", "a=rtpmap:101 telephone-event/8000")
	done := make(chan error, 1)
	go func() {
		_, err := e.run(context.Background(), "Read", "PIN", "please-enter", "4", "5")
		done <- err
	}()
	waitMedia(t, e)
	time.Sleep(100 * time.Millisecond) // the prompt is playing; the first digit interrupts it
	for i, code := range []uint8{1, 2, 3, 11} {
		ts := uint32(1000 * (i + 1))
		e.send(101, true, ts, dtmf.Event{Code: code, Duration: 160}.Append(nil))
		for range 3 {
			e.send(101, false, ts, dtmf.Event{Code: code, End: true, Duration: 400}.Append(nil))
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := e.call.Var("PIN") + "/" + e.call.Var("READSTATUS"); got != "123/OK" {
		t.Errorf("PIN/READSTATUS = %s, want 123/OK", got)
	}
}

// TestReadINFO feeds digits the way sipsvc delivers a SIP INFO: dtmf.ParseInfo on the body,
// then InjectDTMF on the session.
func TestReadINFO(t *testing.T) {
	e := newEnv(t, "0")
	e.ch.caller = &profile.Profile{DTMFMode: profile.DTMFInfo}
	done := make(chan error, 1)
	go func() {
		_, err := e.run(context.Background(), "Read", "EXT", "", "3")
		done <- err
	}()
	waitMedia(t, e)
	time.Sleep(50 * time.Millisecond)
	for _, body := range []struct{ ct, body string }{
		{"application/dtmf-relay", "Signal=4\r\nDuration=160\r\n"},
		{"application/dtmf", "0"},
		{"application/dtmf-relay", "Signal=9\r\nDuration=100\r\n"},
	} {
		d, dur, err := dtmf.ParseInfo(body.ct, []byte(body.body))
		if err != nil {
			t.Fatal(err)
		}
		e.ch.session().InjectDTMF(d, dur)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := e.call.Var("EXT"); got != "409" {
		t.Errorf("EXT = %q, want 409", got)
	}
}

func TestReadTimeoutAndHangup(t *testing.T) {
	e := newEnv(t, "0")
	start := time.Now()
	if _, err := e.run(context.Background(), "Read", "X", "", "", "0.3"); err != nil {
		t.Fatal(err)
	}
	if got := e.call.Var("READSTATUS"); got != "TIMEOUT" || time.Since(start) > 2*time.Second {
		t.Errorf("READSTATUS %q after %s", got, time.Since(start))
	}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	if res, err := e.run(ctx, "Read", "X", "please-enter", "4", "", "2", "10"); err != nil || res.Kind != dialplan.Stop {
		t.Errorf("Read after hangup: %+v, %v; want Ended, no error", res, err)
	}
	if got := e.call.Var("READSTATUS"); got != "HANGUP" {
		t.Errorf("READSTATUS %q, want HANGUP", got)
	}
}

func TestReadArgErrors(t *testing.T) {
	e := newEnv(t, "0")
	for _, args := range [][]string{{"1bad"}, {"X", "", "300"}, {"X", "", "4", "q"}, {"X", "", "4", "", "99"}, {"X", "", "4", "", "1", "-1"}} {
		if _, err := e.run(context.Background(), "Read", args...); err == nil {
			t.Errorf("Read(%s) accepted", strings.Join(args, ","))
		}
	}
}

func TestEchoApp(t *testing.T) {
	e := newEnv(t, "0 101", "a=rtpmap:101 telephone-event/8000")
	done := make(chan error, 1)
	go func() {
		_, err := e.run(context.Background(), "Echo")
		done <- err
	}()
	waitMedia(t, e)
	time.Sleep(50 * time.Millisecond)
	e.send(0, true, 160, []byte(strings.Repeat("x", 160)))
	if pkts := e.recvAll(200 * time.Millisecond); len(pkts) != 1 || string(pkts[0].Payload) != strings.Repeat("x", 160) {
		t.Errorf("echo returned %d packets", len(pkts))
	}
	e.send(101, true, 800, dtmf.Event{Code: 11, End: true, Duration: 400}.Append(nil))
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Echo did not end on #")
	}
}

func TestSay(t *testing.T) {
	for _, tc := range []struct {
		n    int
		want string
	}{
		{0, "0"}, {7, "7"}, {15, "15"}, {40, "40"}, {42, "40 2"}, {100, "1 hundred"}, {-305, "minus 3 hundred 5"},
		{1234, "1 thousand 2 hundred 30 4"}, {2000019, "2 million 19"},
	} {
		var got []string
		for _, s := range app.NumberSounds(tc.n) {
			got = append(got, strings.TrimPrefix(s, "digits/"))
			if _, err := sounds.FS.Open(s + ".wav"); err != nil {
				t.Errorf("%d: %s has no stock prompt", tc.n, s)
			}
		}
		if diff := cmp.Diff(tc.want, strings.Join(got, " ")); diff != "" {
			t.Errorf("NumberSounds(%d) (-want +got):\n%s", tc.n, diff)
		}
	}
	e := newEnv(t, "0")
	if _, err := e.run(context.Background(), "SayDigits", "4#"); err != nil {
		t.Fatal(err)
	}
	want := (len(stockSamples(t, "digits/4.wav"))+159)/160 + (len(stockSamples(t, "digits/hash.wav"))+159)/160
	if n := len(e.recvAll(200 * time.Millisecond)); n != want {
		t.Errorf("SayDigits sent %d packets, want %d", n, want)
	}
	if _, err := e.run(context.Background(), "SayNumber", "twelve"); err == nil {
		t.Error("SayNumber(twelve) accepted")
	}
}

func TestRegisterTwice(t *testing.T) {
	reg := dialplan.NewRegistry()
	if err := app.Register(reg, app.Deps{}); err != nil {
		t.Fatal(err)
	}
	if err := app.Register(reg, app.Deps{}); !errors.Is(err, dialplan.ErrDuplicateApp) {
		t.Errorf("second Register: %v", err)
	}
}

func waitMedia(t *testing.T, e *env) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for e.ch.Media() == nil {
		if time.Now().After(deadline) {
			t.Fatal("no media session")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestOperatorSoundsOverrideStock(t *testing.T) {
	e := newEnv(t, "0")
	own := fstest.MapFS{"hello.wav": {Data: wav.Encode(make([]int16, 16000), 16000)}} // 1 s at 16 kHz
	e.reg = dialplan.NewRegistry()
	if err := app.Register(e.reg, app.Deps{Sounds: own}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.run(context.Background(), "Playback", "hello&beep"); err != nil {
		t.Fatal(err)
	}
	// The operator's 1 s hello (resampled to 8 kHz: 50 packets), then the stock beep (13).
	if n := len(e.recvAll(200 * time.Millisecond)); n != 63 {
		t.Errorf("%d packets, want 63", n)
	}
}

func TestSendDTMF(t *testing.T) {
	e := newEnv(t, "0 101", "a=rtpmap:101 telephone-event/8000")
	if _, err := e.run(context.Background(), "SendDTMF", "1#", "100", "60"); err != nil {
		t.Fatal(err)
	}
	var got []rune
	var r dtmf.Receiver
	for _, p := range e.recvAll(300 * time.Millisecond) {
		if p.PayloadType != 101 {
			t.Fatalf("pt %d", p.PayloadType)
		}
		ev, err := dtmf.ParseEvent(p.Payload)
		if err != nil {
			t.Fatal(err)
		}
		r.Handle(p.Timestamp, ev, func(d rune, _ uint16) { got = append(got, d) })
	}
	if string(got) != "1#" {
		t.Errorf("peer decoded %q, want 1#", string(got))
	}
	if _, err := newEnv(t, "0").run(context.Background(), "SendDTMF", "1"); err == nil {
		t.Error("SendDTMF without telephone-event succeeded")
	}
}

// TestHangupEndsAppsQuietly: when the caller hangs up (the call's context ends), media apps stop
// the dialplan with Ended and no error.
func TestHangupEndsAppsQuietly(t *testing.T) {
	for _, tc := range [][]string{{"Echo"}, {"Playback", "welcome"}, {"PlayTones", "ringback"}, {"SayNumber", "123456"}, {"Answer", "5000"}} {
		e := newEnv(t, "0 101", "a=rtpmap:101 telephone-event/8000")
		ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
		res, err := e.run(ctx, tc[0], tc[1:]...)
		cancel()
		if err != nil || res.Kind != dialplan.Stop {
			t.Errorf("%s after hangup: %+v, %v; want Ended, no error", tc[0], res, err)
		}
	}
}
