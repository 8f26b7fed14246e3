package routing_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/sidecar-voip/sidecar/config"
	"github.com/sidecar-voip/sidecar/routing"
)

// reloadFixture is a settings file and a template directory on disk, loaded once into a
// Live, with a Reloader re-reading both.
type reloadFixture struct {
	ini, dir string
	live     *routing.Live
	r        *routing.Reloader
	applied  []*config.Config
}

const reloadINI = "[sip]\nlisten = udp:127.0.0.1:0\nmax-calls = 10\n"

func newReloadFixture(t *testing.T, recent int) *reloadFixture {
	t.Helper()
	f := &reloadFixture{dir: writeDir(t, map[string]string{
		"t.conf":          "[sub]\ncontext = old\n",
		"extensions.conf": "[old]\nexten => _X.,1,Busy()\n",
	})}
	f.ini = filepath.Join(t.TempDir(), "sidecar.ini")
	write(t, f.ini, reloadINI)
	reg := registry(t)
	sources := func() (routing.Options, error) {
		cfg, err := config.Load(f.ini)
		if err != nil {
			return routing.Options{}, err
		}
		return routing.Options{Config: cfg, Dir: f.dir, Apps: reg}, nil
	}
	opts, err := sources()
	if err != nil {
		t.Fatal(err)
	}
	b, d := routing.Load(opts)
	if d.Err() != nil {
		t.Fatal(d.Err())
	}
	f.live = routing.NewLive(b)
	f.r, err = routing.NewReloader(routing.ReloaderOptions{
		Live: f.live, Sources: sources, Recent: recent,
		Apply: func(c *config.Config) { f.applied = append(f.applied, c) },
	})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func write(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// A clean edit is swapped in and its settings applied; a broken one is refused with every
// file:line error, and the running bundle stays.
func TestReloadSwapsOrKeeps(t *testing.T) {
	f := newReloadFixture(t, 0)
	first := f.live.Current()

	write(t, filepath.Join(f.dir, "extensions.conf"), "[old]\nexten => _X.,1,Busy()\n[new]\nexten => _X.,1,Congestion()\n")
	write(t, filepath.Join(f.dir, "t.conf"), "[sub]\ncontext = new\n")
	write(t, f.ini, reloadINI+"trusted = 10.0.0.0/8\n")
	res, err := f.r.Reload("test")
	if err != nil || !res.OK {
		t.Fatalf("clean reload: %v %+v", err, res)
	}
	second := f.live.Current()
	if second == first || !second.Plan().HasContext("new") {
		t.Fatal("the new bundle was not swapped in")
	}
	if len(f.applied) != 1 || f.applied[0] != second.Config() || f.applied[0].SIP.Trusted.String() != "10.0.0.0/8" {
		t.Errorf("Apply got %v; want the new settings once", f.applied)
	}
	if res.Restart != nil {
		t.Errorf("restart needed %q; want none", res.Restart)
	}

	// Two broken files: both errors are reported, each with its file and line.
	write(t, filepath.Join(f.dir, "t.conf"), "[sub]\ncontext = new\nbogus-key = 1\n")
	write(t, filepath.Join(f.dir, "u.conf"), "[other]\ncodec = nonsense-codec\n")
	res, err = f.r.Reload("test")
	if !errors.Is(err, routing.ErrRefused) || res.OK {
		t.Fatalf("broken reload: err %v, ok %v", err, res.OK)
	}
	if f.live.Current() != second {
		t.Error("a broken reload replaced the running bundle")
	}
	want := []string{filepath.Join(f.dir, "t.conf") + ":3: ", filepath.Join(f.dir, "u.conf") + ":2: "}
	if len(res.Errors) != 2 || !strings.HasPrefix(res.Errors[0], want[0]) || !strings.HasPrefix(res.Errors[1], want[1]) {
		t.Errorf("errors %q; want them at %q", res.Errors, want)
	}
	if len(f.applied) != 1 {
		t.Error("a refused reload applied settings")
	}

	// A broken settings file is refused with its file:line too.
	os.Remove(filepath.Join(f.dir, "u.conf"))
	write(t, filepath.Join(f.dir, "t.conf"), "[sub]\ncontext = new\n")
	write(t, f.ini, reloadINI+"max-calls = many\n")
	res, err = f.r.Reload("test")
	if err == nil || len(res.Errors) == 0 || !strings.HasPrefix(res.Errors[0], f.ini+":4: ") {
		t.Errorf("broken settings: err %v, errors %q", err, res.Errors)
	}

	st := f.r.Stats()
	if st.Reloads != 3 || st.Failures != 2 || len(st.Recent) != 2 || st.LastSuccessTime.IsZero() ||
		!strings.HasPrefix(st.LastError, f.ini+":4: ") || st.LastErrorTime.Before(st.LastSuccessTime) {
		t.Errorf("stats %+v", st)
	}
}

// Settings bound at start are reported as needing a restart; the reload still applies the
// rest, and keeps reporting them until the process restarts.
func TestReloadRestartNeeded(t *testing.T) {
	f := newReloadFixture(t, 0)
	write(t, f.ini, "[sip]\nlisten = udp:127.0.0.1:5999\nmax-calls = 20\n[rtp]\nports = 30000-30999\n")
	for range 2 {
		res, err := f.r.Reload("test")
		if err != nil || !res.OK {
			t.Fatal(err)
		}
		want := []string{"[sip] listen", "[rtp] ports"}
		slices.Sort(want)
		got := slices.Sorted(slices.Values(res.Restart))
		if !slices.Equal(got, want) {
			t.Errorf("restart needed %q; want %q", got, want)
		}
	}
	if f.live.Current().Config().SIP.MaxCalls != 20 {
		t.Error("the live settings were not applied")
	}
}

// Refused reloads are remembered up to the bound, oldest dropped first.
func TestReloadRecentBounded(t *testing.T) {
	f := newReloadFixture(t, 2)
	for i := range 5 {
		write(t, filepath.Join(f.dir, "t.conf"), "[sub]\ncontext = old\n"+strings.Repeat("\n", i)+"bad = 1\n")
		if _, err := f.r.Reload("test"); err == nil {
			t.Fatal("accepted a broken file")
		}
	}
	st := f.r.Stats()
	if st.Failures != 5 || len(st.Recent) != 2 || !strings.Contains(st.Recent[1].Errors[0], "t.conf:7:") ||
		!strings.Contains(st.Recent[0].Errors[0], "t.conf:6:") {
		t.Errorf("stats %+v", st)
	}
}

// Concurrent reloads run one at a time: each request gets a result of a reload that read
// the files after it was made, and a burst costs fewer loads than requests, never more.
func TestReloadConcurrent(t *testing.T) {
	f := newReloadFixture(t, 0)
	const n = 16
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			res, err := f.r.Reload("burst")
			if err == nil && !res.OK {
				err = errors.New("not ok")
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	st := f.r.Stats()
	if st.Reloads+st.Coalesced != n || st.Reloads == 0 {
		t.Errorf("reloads %d + coalesced %d != %d requests", st.Reloads, st.Coalesced, n)
	}
}

func TestNewReloaderNeedsABundle(t *testing.T) {
	if _, err := routing.NewReloader(routing.ReloaderOptions{Live: &routing.Live{}}); err == nil {
		t.Error("a reloader without a running bundle")
	}
}

// Rebuild (the push hook) swaps a bundle loaded with its overlay, which every later reload
// keeps; a failed load or commit changes nothing.
func TestRebuildOverlay(t *testing.T) {
	f := newReloadFixture(t, 0)
	first := f.live.Current()
	// An overlay naming a directory that does not exist: the load fails, nothing changes.
	bad := func(o *routing.Options) { o.Dir = filepath.Join(f.dir, "none") }
	if _, err := f.r.Rebuild(bad, nil); err == nil || f.live.Current() != first {
		t.Fatalf("a failed rebuild: err %v, swapped %v", err, f.live.Current() != first)
	}
	other := writeDir(t, map[string]string{"t.conf": "[sub]\ncontext = o\n[extra]\n", "extensions.conf": "[o]\nexten => 1,1,Busy()\n"})
	overlay := func(o *routing.Options) { o.Dir = other }
	if _, err := f.r.Rebuild(overlay, func() error { return errors.New("disk full") }); err == nil || f.live.Current() != first {
		t.Fatalf("a failed commit: err %v", err)
	}
	committed := false
	if _, err := f.r.Rebuild(overlay, func() error { committed = true; return nil }); err != nil || !committed {
		t.Fatalf("rebuild: %v, committed %v", err, committed)
	}
	if !f.r.Current().Templates().Has("extra") {
		t.Fatal("the overlay was not loaded")
	}
	if res, err := f.r.Reload("test"); err != nil || !res.OK || !f.live.Current().Templates().Has("extra") {
		t.Errorf("a reload dropped the overlay: %v", err)
	}
	if st := f.r.Stats(); st.Reloads != 1 || st.Failures != 0 {
		t.Errorf("rebuilds counted as reloads: %+v", st)
	}
}

// The overlay the process started with (the pushed templates read at start) is applied to
// every reload until a Rebuild replaces it.
func TestReloadInitialOverlay(t *testing.T) {
	f := newReloadFixture(t, 0)
	pushed := []routing.Pushed{{Name: "alice", Text: "[alice](sub)\n"}}
	r, err := routing.NewReloader(routing.ReloaderOptions{
		Live: f.live, Sources: func() (routing.Options, error) {
			cfg, err := config.Load(f.ini)
			return routing.Options{Config: cfg, Dir: f.dir, Apps: registry(t)}, err
		},
		Overlay: func(o *routing.Options) { o.Pushed = pushed },
	})
	if err != nil {
		t.Fatal(err)
	}
	if res, err := r.Reload("test"); err != nil || !res.OK || !f.live.Current().Templates().Has("alice") {
		t.Errorf("a reload dropped the pushed template of the start: %v", err)
	}
	write(t, filepath.Join(f.dir, "t.conf"), "[sub]\ncontext = old\nbad = 1\n")
	if res, err := r.Reload("test"); err == nil || !strings.HasPrefix(res.Errors[0], filepath.Join(f.dir, "t.conf")+":3: ") {
		t.Errorf("broken file with pushes: %v %q", err, res.Errors)
	}
}
