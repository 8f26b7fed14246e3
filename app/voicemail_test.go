package app_test

import (
	"context"
	"io"
	"math"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/sidecar-voip/sidecar/app"
	"github.com/sidecar-voip/sidecar/app/wav"
	"github.com/sidecar-voip/sidecar/rtp/codec/g711"
	"github.com/sidecar-voip/sidecar/rtp/dtmf"
	"github.com/sidecar-voip/sidecar/voicemail"
	"github.com/sidecar-voip/sidecar/voicemail/fsstore"
)

// The voicemail tests run VoiceMail and VoiceMailMain end to end: the real SIP service, media
// plane and dialplan, a filesystem store in a temporary directory, a UAC sending G.711 RTP
// and RFC 4733 digits on loopback.

const vmTemplates = `[sub]
context = vm
codecs = ulaw
dtmf-mode = auto
mailbox-id = {{ .Header "X-MailBoxId" }}
mailbox-pin = {{ .Header "X-MailBoxPin" }}
`

const vmDialplan = `[vm]
exten => dep,1,VoiceMail(1001,s)
 same => n,Log(NOTICE,vmstatus={{ .Var "VMSTATUS" }})
 same => n,Hangup()
exten => greet,1,VoiceMail(1001)
 same => n,Log(NOTICE,vmstatus={{ .Var "VMSTATUS" }})
 same => n,Hangup()
exten => o,1,Log(NOTICE,operator vmstatus={{ .Var "VMSTATUS" }})
 same => n,Hangup()
exten => main,1,VoiceMailMain()
 same => n,Log(NOTICE,after main)
`

// The PIN of the tests: long and unusual, so that finding it in a log is no accident.
const vmPIN = "9081726354"

type vmEnv struct {
	*sidecar
	store *fsstore.Store
	stats *app.VoicemailStats
	u     *uac
}

func startVM(t *testing.T, mod func(*app.VoicemailOptions)) *vmEnv {
	t.Helper()
	store, err := fsstore.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	opts := app.DefaultVoicemailOptions()
	opts.KeyTimeout, opts.FailDelay = 3*time.Second, 100*time.Millisecond
	if mod != nil {
		mod(&opts)
	}
	stats := new(app.VoicemailStats)
	sc := startSidecarWith(t, nil, vmTemplates, vmDialplan, app.Deps{Voicemail: store, VoicemailOptions: &opts, VoicemailStats: stats})
	return &vmEnv{sidecar: sc, store: store, stats: stats, u: newUAC(t)}
}

// quiet reads the sidecar's RTP until none came for gap: the prompts ended.
func (u *uac) quiet(gap time.Duration) {
	u.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if _, _, err := u.recvRTP(gap); err != nil {
			return
		}
	}
	u.t.Fatal("the sidecar never stopped sending audio")
}

// digits sends each digit as an RFC 4733 event.
func (u *uac) digits(to netip.AddrPort, s string) {
	codes := map[rune]uint8{'*': 10, '#': 11}
	for _, r := range s {
		code, ok := codes[r]
		if !ok {
			code = uint8(r - '0')
		}
		u.dtmfTS += 8000
		ts := u.dtmfTS
		u.sendRTP(to, 101, true, ts, dtmf.Event{Code: code, Duration: 160}.Append(nil))
		u.sendRTP(to, 101, false, ts, dtmf.Event{Code: code, Duration: 320}.Append(nil))
		for range 3 {
			u.sendRTP(to, 101, false, ts, dtmf.Event{Code: code, End: true, Duration: 480}.Append(nil))
		}
	}
}

// signal is a known test signal: pseudo-random noise at about -12 dBFS.
func signal(n int) []int16 {
	out := make([]int16, n)
	x := uint32(12345)
	for i := range out {
		x = x*1664525 + 1013904223
		out[i] = int16(int32(x>>16)&0x3fff - 0x2000)
	}
	return out
}

// sendAudio sends pcm as µ-law packets of 20 ms, paced in real time.
func (u *uac) sendAudio(to netip.AddrPort, pcm []int16) {
	tk := time.NewTicker(20 * time.Millisecond)
	defer tk.Stop()
	for off := 0; off+160 <= len(pcm); off += 160 {
		<-tk.C
		u.audioTS += 160
		u.sendRTP(to, 0, off == 0, u.audioTS, g711.Ulaw{}.Encode(nil, pcm[off:off+160]))
	}
}

// stored returns the messages of a folder and the samples of the first one.
func (e *vmEnv) stored(t *testing.T, mailbox string, f voicemail.Folder) ([]voicemail.Message, []int16) {
	t.Helper()
	msgs, err := e.store.List(context.Background(), mailbox, f)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) == 0 {
		return nil, nil
	}
	_, a, err := e.store.Open(context.Background(), mailbox, msgs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := io.ReadAll(a)
	if err != nil {
		t.Fatal(err)
	}
	pcm, rate, err := wav.Decode(b)
	if err != nil || rate != 8000 {
		t.Fatalf("stored message: rate %d, %v", rate, err)
	}
	return msgs, pcm
}

// bestCorrelation is the highest normalised cross-correlation of sent and got over lags of up
// to a second either way, computed on their overlap.
func bestCorrelation(sent, got []int16) float64 {
	best := 0.0
	for lag := -8000; lag <= 8000; lag += 1 {
		var sxy, sxx, syy float64
		n := 0
		for i := range sent {
			j := i + lag
			if j < 0 || j >= len(got) {
				continue
			}
			x, y := float64(sent[i]), float64(got[j])
			sxy += x * y
			sxx += x * x
			syy += y * y
			n++
		}
		if n < len(sent)/2 || sxx == 0 || syy == 0 {
			continue
		}
		if c := sxy / math.Sqrt(sxx*syy); c > best {
			best = c
		}
	}
	return best
}

func (e *vmEnv) waitLog(t *testing.T, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(e.log.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("log lacks %q:\n%s", want, e.log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestVoiceMailDepositEndsWithPound(t *testing.T) {
	e := startVM(t, nil)
	_, media := e.u.answered(e.sidecar, "dep",
		sip.NewHeader("Diversion", "<sip:1001@example.org>;reason=user-busy;counter=1"),
		sip.NewHeader("P-Asserted-Identity", `"Bob Smith" <sip:5551234@example.org>`))
	e.u.waitPrompt()
	e.u.quiet(400 * time.Millisecond) // greeting and beep played: recording
	sent := signal(2 * 8000)
	e.u.sendAudio(media, sent)
	e.u.digits(media, "#")
	if !e.u.waitBye(5 * time.Second) {
		t.Fatal("no BYE after the deposit")
	}
	e.waitLog(t, "vmstatus=SUCCESS")
	msgs, got := e.stored(t, "1001", voicemail.Inbox)
	if len(msgs) != 1 {
		t.Fatalf("%d messages in INBOX, want 1", len(msgs))
	}
	if m := msgs[0]; m.CallerID != "5551234" || m.CallerName != "Bob Smith" || m.Codec != "pcmu" {
		t.Errorf("envelope %+v: want caller 5551234 \"Bob Smith\", codec pcmu", m)
	}
	if c := bestCorrelation(sent, got); c < 0.9 {
		t.Errorf("stored audio correlates %.2f with the signal sent, want >= 0.9 (%d samples stored, %d sent)", c, len(got), len(sent))
	}
	if n := e.stats.Deposits.Load(); n != 1 {
		t.Errorf("Deposits = %d, want 1", n)
	}
	if got := vmMetrics(t, e.stats); got["sidecar_voicemail_deposits_total{outcome=ok}"] != 1 ||
		got["sidecar_voicemail_deposits_total{outcome=failed}"] != 0 {
		t.Errorf("/metrics voicemail series after one deposit: %v", got)
	}
}

func TestVoiceMailMinSecsDiscards(t *testing.T) {
	e := startVM(t, func(o *app.VoicemailOptions) { o.Limits.MinDuration = 2 * time.Second })
	_, media := e.u.answered(e.sidecar, "dep")
	e.u.waitPrompt()
	e.u.quiet(400 * time.Millisecond)
	e.u.sendAudio(media, signal(8000/2))
	e.u.digits(media, "#")
	e.waitLog(t, "vmstatus=FAILED")
	if msgs, _ := e.stored(t, "1001", voicemail.Inbox); len(msgs) != 0 {
		t.Errorf("%d messages stored, want none (shorter than minsecs)", len(msgs))
	}
	if n := e.stats.TooShort.Load(); n != 1 {
		t.Errorf("TooShort = %d, want 1", n)
	}
}

func TestVoiceMailMaxSecsCuts(t *testing.T) {
	e := startVM(t, func(o *app.VoicemailOptions) { o.Limits.MaxDuration = time.Second })
	_, media := e.u.answered(e.sidecar, "dep")
	e.u.waitPrompt()
	e.u.quiet(400 * time.Millisecond)
	sent := signal(2 * 8000)
	e.u.sendAudio(media, sent) // no '#': maxsecs ends it
	e.waitLog(t, "vmstatus=SUCCESS")
	msgs, got := e.stored(t, "1001", voicemail.Inbox)
	if len(msgs) != 1 || msgs[0].Duration != time.Second || len(got) != 8000 {
		t.Fatalf("messages %+v with %d samples: want one of 1 s", msgs, len(got))
	}
	if c := bestCorrelation(sent[:8000], got); c < 0.9 {
		t.Errorf("stored audio correlates %.2f with the first second sent, want >= 0.9", c)
	}
}

func TestVoiceMailSilenceStops(t *testing.T) {
	e := startVM(t, func(o *app.VoicemailOptions) { o.Limits.MaxSilence = 600 * time.Millisecond })
	_, media := e.u.answered(e.sidecar, "dep")
	e.u.waitPrompt()
	e.u.quiet(400 * time.Millisecond)
	sent := signal(8000)
	e.u.sendAudio(media, append(append([]int16(nil), sent...), make([]int16, 3*8000)...))
	e.waitLog(t, "vmstatus=SUCCESS")
	msgs, got := e.stored(t, "1001", voicemail.Inbox)
	if len(msgs) != 1 {
		t.Fatalf("%d messages, want 1", len(msgs))
	}
	// The trailing silence is not stored: about the second of signal remains.
	if d := msgs[0].Duration; d < 900*time.Millisecond || d > 1100*time.Millisecond {
		t.Errorf("message of %v, want about 1 s (silence trimmed)", d)
	}
	if c := bestCorrelation(sent, got); c < 0.9 {
		t.Errorf("stored audio correlates %.2f with the signal, want >= 0.9", c)
	}
}

func TestVoiceMailZeroJumpsToOperator(t *testing.T) {
	e := startVM(t, nil)
	_, media := e.u.answered(e.sidecar, "greet")
	e.u.waitPrompt()
	// '*' has no "a" extension in the context: ignored, the greeting goes on. '0' has "o".
	e.u.digits(media, "*")
	e.u.digits(media, "0")
	e.waitLog(t, "operator vmstatus=USEREXIT")
	if msgs, _ := e.stored(t, "1001", voicemail.Inbox); len(msgs) != 0 {
		t.Errorf("%d messages stored, want none", len(msgs))
	}
}

func TestVoiceMailMailboxFull(t *testing.T) {
	e := startVM(t, func(o *app.VoicemailOptions) { o.Limits.MaxMessages = 1 })
	rec, err := e.store.Deposit(context.Background(), "1001", voicemail.Envelope{Codec: "pcmu"}, voicemail.DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	rec.WritePCM(signal(8000))
	if _, err := rec.Commit(); err != nil {
		t.Fatal(err)
	}
	e.u.answered(e.sidecar, "dep")
	e.waitLog(t, "vmstatus=FAILED")
	if n := e.stats.MailboxFull.Load(); n != 1 {
		t.Errorf("MailboxFull = %d, want 1", n)
	}
	if msgs, _ := e.stored(t, "1001", voicemail.Inbox); len(msgs) != 1 {
		t.Errorf("%d messages, want the 1 already there", len(msgs))
	}
}

// deposit stores a message of pcm in mailbox through the store.
func (e *vmEnv) deposit(t *testing.T, mailbox string, pcm []int16) voicemail.Message {
	t.Helper()
	rec, err := e.store.Deposit(context.Background(), mailbox, voicemail.Envelope{CallerID: "5551234", Codec: "pcmu"}, voicemail.DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	if err := rec.WritePCM(pcm); err != nil {
		t.Fatal(err)
	}
	m, err := rec.Commit()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// checkNoPIN fails when the PIN appears anywhere in the service log (every level, debug
// included).
func (e *vmEnv) checkNoPIN(t *testing.T) {
	t.Helper()
	if strings.Contains(e.log.String(), vmPIN) {
		t.Errorf("the PIN is in the service log:\n%s", e.log.String())
	}
}

func mainHeaders() []sip.Header {
	return []sip.Header{sip.NewHeader("X-MailBoxId", "1001"), sip.NewHeader("X-MailBoxPin", vmPIN)}
}

func TestVoiceMailMainWrongPINLocksOut(t *testing.T) {
	e := startVM(t, nil)
	defer e.checkNoPIN(t)
	_, media := e.u.answered(e.sidecar, "main", mainHeaders()...)
	for i := range 3 {
		e.u.waitPrompt()
		e.u.quiet(400 * time.Millisecond) // "password?" played; the app waits for digits
		e.u.digits(media, "1111#")
		if i < 2 {
			e.u.waitPrompt() // "login incorrect"
		}
	}
	if !e.u.waitBye(10 * time.Second) {
		t.Fatal("no hangup after three wrong PINs")
	}
	if f, l := e.stats.LoginFailures.Load(), e.stats.Lockouts.Load(); f != 3 || l != 1 {
		t.Errorf("LoginFailures %d, Lockouts %d; want 3 and 1", f, l)
	}
	// Locked: the right PIN is refused too.
	u2 := newUAC(t)
	_, media2 := u2.answered(e.sidecar, "main", mainHeaders()...)
	u2.waitPrompt()
	u2.quiet(400 * time.Millisecond)
	u2.digits(media2, vmPIN+"#")
	u2.waitPrompt() // "login incorrect"
	if n := e.stats.LockedRefusals.Load(); n != 1 || e.stats.Logins.Load() != 0 {
		t.Errorf("LockedRefusals %d, Logins %d during the lockout; want 1 and 0", n, e.stats.Logins.Load())
	}
	got := vmMetrics(t, e.stats)
	for k, v := range map[string]float64{"sidecar_voicemail_logins_total{outcome=bad_pin}": 3,
		"sidecar_voicemail_logins_total{outcome=locked}": 1, "sidecar_voicemail_logins_total{outcome=ok}": 0,
		"sidecar_voicemail_lockouts_total{}": 1} {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
}

func TestVoiceMailMainPlayDeleteExit(t *testing.T) {
	e := startVM(t, nil)
	defer e.checkNoPIN(t)
	msg := e.deposit(t, "1001", signal(8000))
	_, media := e.u.answered(e.sidecar, "main", mainHeaders()...)
	e.u.waitPrompt()
	e.u.quiet(400 * time.Millisecond)
	e.u.digits(media, vmPIN+"#")
	e.u.waitPrompt() // "you have one new message", the menu
	e.u.quiet(400 * time.Millisecond)
	if e.stats.Logins.Load() != 1 {
		t.Fatal("no login with the right PIN")
	}
	e.u.digits(media, "1")
	// The envelope and the message: 1 s of audio at least.
	start := time.Now()
	e.u.waitPrompt()
	e.u.quiet(400 * time.Millisecond)
	if d := time.Since(start); d < time.Second {
		t.Errorf("message played for %v, want the envelope and 1 s of audio", d)
	}
	_, a, err := e.store.Open(context.Background(), "1001", msg.ID)
	if err != nil {
		t.Fatalf("message gone before 7: %v", err)
	}
	a.Close()
	if c, _ := e.store.Counts(context.Background(), "1001"); c.New != 0 || c.Old != 1 {
		t.Errorf("after playing: counts %+v, want the message in Old", c)
	}
	e.u.digits(media, "7")
	e.u.waitPrompt() // "message deleted"
	e.u.quiet(400 * time.Millisecond)
	if c, _ := e.store.Counts(context.Background(), "1001"); c != (voicemail.Counts{}) {
		t.Errorf("after 7: counts %+v, want none", c)
	}
	e.u.digits(media, "#")
	if !e.u.waitBye(5 * time.Second) {
		t.Fatal("no hangup after #")
	}
}
