package routing_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/sidecar-voip/sidecar/app"
	"github.com/sidecar-voip/sidecar/config"
	"github.com/sidecar-voip/sidecar/dialplan"
	"github.com/sidecar-voip/sidecar/routing"
)

// writeDir writes files (name -> text) into a new directory and returns it.
func writeDir(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func registry(t testing.TB) *dialplan.Registry {
	t.Helper()
	reg, err := app.NewRegistry(app.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	return reg
}

func TestLoadShipped(t *testing.T) {
	b, d := routing.Load(routing.Options{Config: config.Default(), Apps: registry(t)})
	if err := d.Err(); err != nil || b == nil {
		t.Fatalf("load the shipped templates: %v", err)
	}
	if b.Source() != routing.Embedded || b.Templates() == nil || b.Plan() == nil || b.Chain() == nil || b.Config() == nil {
		t.Errorf("bundle lacks a piece: source %q, set %v, plan %v, chain %v", b.Source(), b.Templates(), b.Plan(), b.Chain())
	}
	if !b.Plan().HasContext("from-subscriber") {
		t.Error("shipped dialplan not loaded")
	}
}

func TestLoadDiagnostics(t *testing.T) {
	cfg := config.Default()
	cfg.SIP.Identify = []string{"header", "anonymous", "username"}
	cfg.Identify.Anonymous = "nobody"
	cfg.SIP.DefaultContext = "nowhere"
	bad := writeDir(t, map[string]string{
		"a.conf":          "[t]\ncodec = pcmu\n",
		"b.conf":          "[u]\nlocation = {{ .Header \"X-Loc\" }}x\n",
		"extensions.conf": "[x]\nexten => _X.,1,Bogus()\n",
	})
	b, d := routing.Load(routing.Options{Config: cfg, Dir: bad, Apps: registry(t)})
	if b != nil {
		t.Fatal("a bundle despite errors")
	}
	var errs, warns []string
	for _, e := range d.Errors {
		errs = append(errs, e.Error())
	}
	for _, e := range d.Warnings {
		warns = append(warns, e.Error())
	}
	// Templates that fail stop the load there: the dialplan is not compiled.
	if len(errs) != 1 || !strings.HasPrefix(errs[0], "a.conf:2: unknown key") {
		t.Errorf("errors = %q; want a.conf:2 only", errs)
	}
	if len(warns) != 1 || !strings.HasPrefix(warns[0], "b.conf:2: with the sample request") {
		t.Errorf("warnings = %q; want b.conf:2", warns)
	}
	if err := d.Err(); err == nil || !strings.Contains(err.Error(), "a.conf:2: unknown key") {
		t.Errorf("Err() = %v", err)
	}
	badPlan := writeDir(t, map[string]string{
		"a.conf":          "[t]\ncontext = x\n",
		"extensions.conf": "[x]\nexten => _X.,1,Bogus()\n same => n,Hangup(abc)\n",
	})
	_, d = routing.Load(routing.Options{Config: config.Default(), Dir: badPlan, Apps: registry(t)})
	if err := d.Err(); err == nil || !strings.Contains(err.Error(), `extensions.conf:2: unknown app "Bogus"`) || !strings.Contains(err.Error(), "\nextensions.conf:3: Hangup") {
		t.Errorf("Err() = %v; want every dialplan error one per line", err)
	}

	settings := writeDir(t, map[string]string{
		"a.conf":          "[t]\ncontext = x\n",
		"extensions.conf": "[x]\nexten => _X.,1,Busy()\n",
	})
	b, d = routing.Load(routing.Options{Config: cfg, Dir: settings, Apps: registry(t)})
	if b != nil || len(d.Errors) != 0 {
		t.Fatalf("bundle %v, file errors %v; want only a settings error", b, d.Errors)
	}
	if len(d.SettingErrors) != 1 || !strings.Contains(d.SettingErrors[0], `[identify] anonymous: unknown template "nobody"`) {
		t.Errorf("setting errors = %q", d.SettingErrors)
	}
	if len(d.SettingWarnings) != 2 || !strings.Contains(d.SettingWarnings[1], `default-context "nowhere" is not a context`) {
		t.Errorf("setting warnings = %q; want username-prefix and default-context", d.SettingWarnings)
	}
	if err := d.Err(); err == nil || !strings.Contains(err.Error(), "settings: build identifier anonymous") {
		t.Errorf("Err() = %v", err)
	}

	cfg = config.Default()
	cfg.SIP.DefaultContext = "nowhere"
	b, d = routing.Load(routing.Options{Config: cfg, Dir: settings, Apps: registry(t)})
	if b == nil || d.Err() != nil {
		t.Fatalf("warnings stopped the load: %v", d.Err())
	}
	if w := b.Warnings().SettingWarnings; len(w) != 1 {
		t.Errorf("bundle warnings = %q; want the default-context one", w)
	}
}

func TestLoadBadDir(t *testing.T) {
	file := filepath.Join(writeDir(t, map[string]string{"f": ""}), "f")
	for name, dir := range map[string]string{
		"missing": filepath.Join(t.TempDir(), "nope"),
		"file":    file,
	} {
		b, d := routing.Load(routing.Options{Config: config.Default(), Dir: dir, Apps: registry(t)})
		if b != nil || len(d.Errors) != 1 || d.Errors[0].Pos.File != dir {
			t.Errorf("%s: bundle %v, errors %v; want one error naming %s", name, b, d.Errors, dir)
		}
	}
	if b, d := routing.Load(routing.Options{Apps: registry(t)}); b != nil || d.Err() == nil {
		t.Error("loaded without settings")
	}
}

func TestLoadFS(t *testing.T) {
	fsys := fstest.MapFS{"t.conf": {Data: []byte("[t]\ncontext = c\n")}, "extensions.conf": {Data: []byte("[c]\nexten => 1,1,Busy()\n")}}
	b, d := routing.Load(routing.Options{Config: config.Default(), FS: fsys, Dir: "pushed", Apps: registry(t)})
	if err := d.Err(); err != nil {
		t.Fatal(err)
	}
	if b.Source() != "pushed" || !b.Templates().Has("t") || !b.Plan().HasContext("c") {
		t.Errorf("source %q; want the files of FS, named by Dir", b.Source())
	}
}

func TestLoadUnroutable(t *testing.T) {
	for name, files := range map[string]map[string]string{
		"no extensions.conf": {"t.conf": "[t]\ncontext = c\n"},
		"unknown context":    {"t.conf": "[t]\ncontext = cc\n", "extensions.conf": "[c]\nexten => 1,1,Busy()\n"},
	} {
		b, d := routing.Load(routing.Options{Config: config.Default(), Dir: writeDir(t, files), Apps: registry(t)})
		// serve runs with them (the calls concerned get 404); check reports them as errors.
		if b == nil || d.Err() != nil {
			t.Errorf("%s: the load failed: %v", name, d.Err())
		}
		if len(d.Unroutable) != 1 {
			t.Errorf("%s: unroutable = %v; want one", name, d.Unroutable)
		}
	}
}
