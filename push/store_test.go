package push_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sidecar-voip/sidecar/app"
	"github.com/sidecar-voip/sidecar/config"
	"github.com/sidecar-voip/sidecar/push"
	"github.com/sidecar-voip/sidecar/routing"
)

// clock is a settable clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// env is a template directory, its routing options and a running bundle.
type env struct {
	opts  routing.Options
	live  *routing.Live
	clock *clock
}

func newEnv(t *testing.T, initial []push.Entry) *env {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"base.conf":       "[sub](!)\ncontext = default\ncodecs = pcmu\n\n[office]\ncontext = default\n",
		"extensions.conf": "[default]\nexten => _X.,1,Answer()\n",
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	reg, err := app.NewRegistry(app.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	opts := routing.Options{Config: config.Default(), Dir: dir, Apps: reg, Pushed: push.Pushed(initial)}
	b, d := routing.Load(opts)
	if err := d.Err(); err != nil {
		t.Fatal(err)
	}
	return &env{opts: opts, live: routing.NewLive(b), clock: &clock{now: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)}}
}

func (e *env) store(dir string, initial []push.Entry) *push.Store {
	return push.New(push.Options{Rebuilder: push.NewLiveRebuilder(e.opts, e.live), Dir: dir, Initial: initial, Now: e.clock.Now})
}

func mustPut(t *testing.T, s *push.Store, name, text string, ttl time.Duration) {
	t.Helper()
	body, err := push.FromText(name, []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(name, body, ttl); err != nil {
		t.Fatalf("put %s: %v", name, err)
	}
}

func codecs(t *testing.T, b *routing.Bundle, name string) string {
	t.Helper()
	sec := b.Section(name)
	if sec == nil {
		return "(none)"
	}
	return strings.Join(sec.Values("codecs"), ",")
}

func TestStoreSwapsTheRunningBundle(t *testing.T) {
	e := newEnv(t, nil)
	s := e.store("", nil)
	before := e.live.Current()
	mustPut(t, s, "alice", "[alice](sub)\ncodecs = g722\n", 0)
	if got := codecs(t, e.live.Current(), "alice"); got != "pcmu,g722" {
		t.Errorf("running codecs of alice = %q", got)
	}
	if before.Section("alice") != nil {
		t.Error("the bundle a call started with changed")
	}
	// A bad push leaves the running set alone and names the pushed line.
	running := e.live.Current()
	_, err := s.Put("alice", "[alice](sub)\ncodecs = g722\nmwi = maybe\n", 0)
	var inv *push.InvalidError
	if !errors.As(err, &inv) || !strings.Contains(err.Error(), "pushed:alice:3: ") {
		t.Fatalf("bad push: %v, want an *InvalidError at pushed:alice:3", err)
	}
	if e.live.Current() != running {
		t.Error("a refused push swapped the bundle")
	}
	// The refusal is remembered for the status page, newest first.
	if f := s.RecentFailures(); len(f) != 1 || f[0].Name != "alice" || !strings.Contains(f[0].Err, "pushed:alice:3: ") {
		t.Errorf("RecentFailures = %+v, want the refused push of alice at pushed:alice:3", f)
	}
	if _, err := s.Put("office", "[office]\n", 0); !errors.Is(err, push.ErrConflict) || !strings.Contains(err.Error(), "base.conf:5") {
		t.Errorf("push over a file template: %v, want ErrConflict naming base.conf:5", err)
	}
	if _, err := s.Delete("office"); !errors.Is(err, push.ErrConflict) {
		t.Errorf("delete of a file template: %v, want ErrConflict", err)
	}
	if _, err := s.Delete("bob"); !errors.Is(err, push.ErrNotFound) {
		t.Errorf("delete of nothing: %v, want ErrNotFound", err)
	}
}

func TestStoreExpiry(t *testing.T) {
	e := newEnv(t, nil)
	s := e.store("", nil)
	mustPut(t, s, "alice", "[alice](sub)\n", time.Minute)
	mustPut(t, s, "bob", "[bob](sub)\n", 0)
	e.clock.Add(59 * time.Second)
	if gone, err := s.Expire(); err != nil || len(gone) != 0 {
		t.Fatalf("expire before the TTL: %v, %v", gone, err)
	}
	e.clock.Add(time.Second)
	gone, err := s.Expire()
	if err != nil || fmt.Sprint(gone) != "[alice]" {
		t.Fatalf("expire at the TTL: %v, %v; want [alice]", gone, err)
	}
	if e.live.Current().Section("alice") != nil || e.live.Current().Section("bob") == nil {
		t.Error("after expiry the running set should hold bob only")
	}
	if _, ok := s.Get("alice"); ok {
		t.Error("alice still listed")
	}
}

// TestStoreExpiryKeepsParents: a push others inherit from is not removed by its TTL (the
// set would not compile); it stays until its children go.
func TestStoreExpiryKeepsParents(t *testing.T) {
	e := newEnv(t, nil)
	s := e.store("", nil)
	mustPut(t, s, "parent", "[parent](!,sub)\n", time.Minute)
	mustPut(t, s, "child", "[child](parent)\n", 0)
	e.clock.Add(time.Hour)
	if _, err := s.Expire(); err == nil || !strings.Contains(err.Error(), "pushed:child:1") {
		t.Fatalf("expire of a parent: %v, want the child's load error", err)
	}
	if _, ok := s.Get("parent"); !ok {
		t.Error("the parent was dropped although the set did not compile without it")
	}
	if _, err := s.Delete("parent"); err == nil {
		t.Error("delete of a parent succeeded")
	}
}

func TestStorePersistsAcrossRestart(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pushed")
	e := newEnv(t, nil)
	s := e.store(dir, nil)
	mustPut(t, s, "alice", "[alice](sub)\ncodecs = g722\n", 0)
	mustPut(t, s, "bob", "[bob](sub)\n", time.Minute)
	mustPut(t, s, "carol", "[carol](sub)\n", 0)
	if _, err := s.Delete("carol"); err != nil {
		t.Fatal(err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".*")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}

	// "Restart" after bob's TTL: alice comes back, bob is gone and its file removed.
	entries, err := push.ReadDir(dir, e.clock.Now().Add(2*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name != "alice" {
		t.Fatalf("read back %+v, want alice only", entries)
	}
	if _, err := os.Stat(filepath.Join(dir, "bob.conf")); !os.IsNotExist(err) {
		t.Errorf("expired bob.conf: %v", err)
	}
	e2 := newEnv(t, entries)
	if got := codecs(t, e2.live.Current(), "alice"); got != "pcmu,g722" {
		t.Errorf("after restart codecs of alice = %q", got)
	}
	s2 := e2.store(dir, entries)
	if _, ok := s2.Get("alice"); !ok {
		t.Error("the restarted store does not list alice")
	}

	// With the TTL kept: a push with an expiry reads back with it.
	mustPut(t, s2, "dave", "[dave](sub)\n", time.Hour)
	entries, err = push.ReadDir(dir, e.clock.Now())
	if err != nil || len(entries) != 2 || !entries[1].Expires.Equal(e.clock.Now().Add(time.Hour)) {
		t.Errorf("read back %+v, %v; want dave expiring in an hour", entries, err)
	}
}

// TestStoreConcurrentPuts runs many pushes at once (go test -race): every one applies and
// the running set ends with all of them.
func TestStoreConcurrentPuts(t *testing.T) {
	e := newEnv(t, nil)
	s := e.store(t.TempDir(), nil)
	var wg sync.WaitGroup
	const n = 16
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := fmt.Sprintf("u%d", i%8) // pairs race on the same name
			text, _ := push.FromText(name, []byte(fmt.Sprintf("[%s](sub)\nmailbox-id = %d\n", name, i)))
			if _, err := s.Put(name, text, 0); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	b := e.live.Current()
	for i := range 8 {
		name := fmt.Sprintf("u%d", i)
		e, ok := s.Get(name)
		if !ok || b.Section(name) == nil {
			t.Fatalf("%s missing", name)
		}
		if !strings.Contains(e.Text, strings.Join(b.Section(name).Values("mailbox-id"), "")) {
			t.Errorf("%s: the store and the running bundle disagree", name)
		}
	}
}

func TestFromTextAndJSON(t *testing.T) {
	if got, err := push.FromText("alice", []byte("codecs = pcma\r\n")); err != nil || got != "[alice]\ncodecs = pcma\n" {
		t.Errorf("headerless: %q, %v", got, err)
	}
	if _, err := push.FromText("alice", []byte("[bob]\n")); !errors.Is(err, push.ErrBadRequest) {
		t.Errorf("other name: %v", err)
	}
	for _, name := range []string{"", ".x", "a/b", "template-match", strings.Repeat("a", 65)} {
		if _, err := push.FromText(name, nil); !errors.Is(err, push.ErrBadRequest) {
			t.Errorf("name %q accepted", name)
		}
	}
	got, err := push.FromJSON("alice", []byte(`{"parents":["sub"],"fields":{"set-var":["A=1","B=2"],"callerid":"\"Al\" <100>;x"}}`))
	want := "[alice](sub)\ncallerid = \"Al\" <100>\\;x\nset-var = A=1\nset-var = B=2\n"
	if err != nil || got != want {
		t.Errorf("JSON: %q, %v\nwant %q", got, err, want)
	}
	for _, body := range []string{`{"fields":{"a":1}}`, `{"field":{}}`, `{"fields":{"a\nb":"x"}}`, `{"fields":{"a":"x\ny"}}`} {
		if _, err := push.FromJSON("alice", []byte(body)); !errors.Is(err, push.ErrBadRequest) {
			t.Errorf("JSON %s accepted: %v", body, err)
		}
	}
}
