package sipsvc_test

import (
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sidecar-voip/sidecar/app"
	"github.com/sidecar-voip/sidecar/config"
	"github.com/sidecar-voip/sidecar/routing"
	"github.com/sidecar-voip/sidecar/sipsvc"
	"github.com/sidecar-voip/sidecar/sipsvc/sipsvctest"
)

// testTemplates are the profile templates of the tests: each names the dialplan context
// its calls run in, so the answer to extension "who" tells which template was chosen.
const testTemplates = `[sub]
context = internal
mailbox-pin = {{ .Header "X-MailBoxPin" }}

[anon]
context = public

[trunk]
context = trunk

[user-carol]
context = carol

[box]
context = callee

[blf]
context = internal
publish-dialog-info = yes

[mwibox]
context = internal
mwi = yes
mailbox-id = 3001
location = sip:bob@sip.example.com
`

// testDialplan routes the test extensions. "who" answers differently in every context.
const testDialplan = `[internal]
exten => busy,1,Busy()
exten => transfer,1,Transfer(sip:bob@192.0.2.9:5060)
exten => answer,1,TestAnswer()
 same => n,TestWait()
exten => hangup,1,TestAnswer()
 same => n,Hangup()
exten => ring,1,Ringing()
 same => n,TestWait()
exten => panic,1,TestPanic()
exten => who,1,Busy()
exten => echo,1,Answer()
 same => n,Echo()
exten => late,1,Wait(1)                   ; no response for a second, then 486: needs its 100 Trying
 same => n,Busy()
exten => slow,1,Ringing()                 ; rings a second, then 486: still ringing when a test strikes
 same => n,Wait(1)
 same => n,Busy()

[public]
exten => who,1,Transfer(sip:public@192.0.2.9)

[trunk]
exten => who,1,Transfer(sip:trunk@192.0.2.9)

[carol]
exten => who,1,Transfer(sip:carol@192.0.2.9)

[callee]
exten => who,1,Transfer(sip:callee@192.0.2.9)
`

// env is a running service with real templates, dialplan and identifier chain, and the
// media test double.
type env struct {
	srv   *sipsvc.Server
	media *sipsvctest.Media
	log   *sipsvctest.Log
	cfg   *config.Config
	udp   netip.AddrPort
}

// startEnv starts a service on loopback; mutate adjusts the test configuration first.
func startEnv(t testing.TB, mutate func(*config.Config)) *env {
	t.Helper()
	return startEnvOpts(t, mutate, nil)
}

// startEnvOpts is startEnv with a last say on the service's options.
func startEnvOpts(t testing.TB, mutate func(*config.Config), opt func(*sipsvc.Options)) *env {
	t.Helper()
	cfg := sipsvctest.Config()
	cfg.SIP.ACKTimeout = time.Second
	cfg.SIP.DrainGrace = time.Second
	cfg.SIP.Identify = []string{"header"}
	if mutate != nil {
		mutate(cfg)
	}
	dir := t.TempDir()
	for name, text := range map[string]string{"test.conf": testTemplates, "extensions.conf": testDialplan} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	reg, err := app.NewRegistry(app.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	registerTestApps(t, reg)
	bundle, diag := routing.Load(routing.Options{Config: cfg, Dir: dir, Apps: reg})
	if err := diag.Err(); err != nil {
		t.Fatalf("load templates and dialplan: %v", err)
	}
	logger, buf := sipsvctest.NewLog()
	m := &sipsvctest.Media{}
	opts := sipsvc.Options{Config: cfg, Router: bundle, Media: m, Log: logger}
	if opt != nil {
		opt(&opts)
	}
	srv := sipsvctest.Start(t, opts)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("service log:\n%s", buf.String())
		}
	})
	return &env{srv: srv, media: m, log: buf, cfg: cfg, udp: sipsvctest.Addr(t, srv, "udp")}
}

// minWait is the shortest deadline of waitFor, final and request.
const minWait = 5 * time.Second

// waitFor polls cond until it holds or the test fails after timeout.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	// At least minWait: these are deadlines for an event that must come, so a longer one only
	// slows a failing test, while a short one failed on a loaded CI machine.
	timeout = max(timeout, minWait)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(timeout)
	for !cond() {
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
	}
}
