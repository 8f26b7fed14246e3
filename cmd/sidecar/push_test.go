package main

import (
	"bytes"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sidecar-voip/sidecar/admin"
	"github.com/sidecar-voip/sidecar/app"
	"github.com/sidecar-voip/sidecar/config"
	"github.com/sidecar-voip/sidecar/push"
	"github.com/sidecar-voip/sidecar/routing"
)

func TestPushCommand(t *testing.T) {
	reg, err := app.NewRegistry(app.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	opts := routing.Options{Config: config.Default(), Apps: reg}
	b, d := routing.Load(opts)
	if d.Err() != nil {
		t.Fatal(d.Err())
	}
	live := routing.NewLive(b)
	store := push.New(push.Options{Rebuilder: push.NewLiveRebuilder(opts, live)})
	const token = "0123456789abcdef-cli"
	srv := httptest.NewServer(admin.New(admin.Options{Token: token, Routing: store, Push: store}).Handler())
	defer srv.Close()

	file := filepath.Join(t.TempDir(), "users.conf")
	os.WriteFile(file, []byte("; two subscribers\n[alice](subscriber)\ncodecs = g722\n\n[bob](subscriber)\nmwi = maybe\n"), 0o644)
	var out, errb bytes.Buffer
	code := run([]string{"push", "-admin", srv.URL, "-token", token, "-ttl", "1m", file}, nil, &out, &errb)
	if code != 1 || !strings.Contains(out.String(), "alice: 201 Created") || !strings.Contains(errb.String(), "bob: 400") || !strings.Contains(errb.String(), "pushed:bob:2: ") {
		t.Fatalf("push: exit %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errb.String())
	}
	if e, ok := store.Get("alice"); !ok || e.Expires.IsZero() {
		t.Errorf("alice: %+v %v, want pushed with a TTL", e, ok)
	}
	out.Reset()
	errb.Reset()
	if code := run([]string{"push", "-admin", srv.URL, file}, nil, &out, &errb); code != 1 || !strings.Contains(errb.String(), "401") {
		t.Errorf("push without the token: exit %d, stderr %s", code, errb.String())
	}
}

func TestTemplatesExport(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "custom")
	var out, errb bytes.Buffer
	if code := run([]string{"templates", "export", dir}, nil, &out, &errb); code != 0 {
		t.Fatalf("export: %d %s", code, errb.String())
	}
	if code := run([]string{"check", "-templates", dir}, nil, &out, &errb); code != 0 {
		t.Errorf("check of the exported directory: %d\n%s", code, errb.String())
	}
	before, _ := os.ReadFile(filepath.Join(dir, "endpoints.conf"))
	os.WriteFile(filepath.Join(dir, "endpoints.conf"), append(before, "; mine\n"...), 0o644)
	errb.Reset()
	if code := run([]string{"templates", "export", dir}, nil, &out, &errb); code != 1 || !strings.Contains(errb.String(), "exists: nothing written") {
		t.Errorf("export over a directory: %d %s", code, errb.String())
	}
	if after, _ := os.ReadFile(filepath.Join(dir, "endpoints.conf")); !bytes.HasSuffix(after, []byte("; mine\n")) {
		t.Error("export overwrote an edited file")
	}
}
