package admin_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sidecar-voip/sidecar/admin"
	"github.com/sidecar-voip/sidecar/app"
	"github.com/sidecar-voip/sidecar/config"
	"github.com/sidecar-voip/sidecar/routing"
)

// startReloader loads a template directory into a Live and returns a Reloader re-reading it.
func startReloader(t *testing.T) (*routing.Reloader, string) {
	t.Helper()
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "t.conf"), "[sub]\ncontext = c\n")
	writeFile(t, filepath.Join(dir, "extensions.conf"), "[c]\nexten => _X.,1,Busy()\n")
	reg, err := app.NewRegistry(app.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	sources := func() (routing.Options, error) {
		return routing.Options{Config: config.Default(), Dir: dir, Apps: reg}, nil
	}
	opts, _ := sources()
	b, d := routing.Load(opts)
	if d.Err() != nil {
		t.Fatal(d.Err())
	}
	r, err := routing.NewReloader(routing.ReloaderOptions{Live: routing.NewLive(b), Sources: sources})
	if err != nil {
		t.Fatal(err)
	}
	return r, dir
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// POST /reload answers 200 with the result when the reload applies, 422 with every
// file:line error when it is refused; other methods are 405, and without a reloader the
// path is not routed.
func TestReloadEndpoint(t *testing.T) {
	r, dir := startReloader(t)
	base := startServer(t, admin.Options{Reload: r})

	got := do(t, "POST", base+"/reload")
	var res routing.Result
	if err := json.Unmarshal([]byte(got.body), &res); err != nil || got.code != 200 || !res.OK ||
		res.Reason != "http" || res.Templates != 1 || got.header.Get("Content-Type") != "application/json" {
		t.Fatalf("clean reload: %d %s (%v)", got.code, got.body, err)
	}

	writeFile(t, filepath.Join(dir, "t.conf"), "[sub]\ncontext = c\nnot-a-key = 1\n")
	got = do(t, "POST", base+"/reload")
	res = routing.Result{}
	if err := json.Unmarshal([]byte(got.body), &res); err != nil || got.code != 422 || res.OK ||
		len(res.Errors) != 1 || !strings.HasPrefix(res.Errors[0], filepath.Join(dir, "t.conf")+":3: ") {
		t.Errorf("broken reload: %d %s (%v)", got.code, got.body, err)
	}
	if st := r.Stats(); st.Reloads != 2 || st.Failures != 1 {
		t.Errorf("stats %+v", st)
	}

	if got := do(t, "GET", base+"/reload"); got.code != 405 || got.header.Get("Allow") != "POST" {
		t.Errorf("GET /reload: %d Allow=%q", got.code, got.header.Get("Allow"))
	}
	bare := startServer(t, admin.Options{})
	if got := do(t, "POST", bare+"/reload"); got.code != 404 {
		t.Errorf("POST /reload without a reloader: %d", got.code)
	}
}
