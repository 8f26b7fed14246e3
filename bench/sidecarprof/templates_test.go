package main

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/sidecar-voip/sidecar/app"
	"github.com/sidecar-voip/sidecar/config"
	"github.com/sidecar-voip/sidecar/routing"
)

// TestBenchTemplateNoBLF checks bench/templates/bench.conf as bench/lib.sh's bench_templates
// installs it (next to the shipped templates/*.conf): the UAC's X-Caller-Template
// "subscriber-noblf" routes the echo call exactly as the shipped "subscriber" does (the same
// dialplan context and extension, the same caller profile) except that the party does not
// publish its dialog state. cps.sh's sidecar-echo and sidecar-echo-blf differ by that only.
func TestBenchTemplateNoBLF(t *testing.T) {
	dir := t.TempDir()
	for _, glob := range []string{"../../templates/*.conf", "../templates/*.conf"} {
		files, err := filepath.Glob(glob)
		if err != nil || len(files) == 0 {
			t.Fatalf("%s: %v (%d files)", glob, err, len(files))
		}
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	cfg := config.Default()
	cfg.SIP.Identify = []string{"header"}
	reg, err := app.NewRegistry(app.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	b, d := routing.Load(routing.Options{Config: cfg, Dir: dir, Apps: reg})
	if err := d.Err(); err != nil {
		t.Fatalf("load the shipped and the bench templates: %v", err)
	}
	route := func(tmpl string) routing.Routing {
		t.Helper()
		raw := "INVITE sip:*43@127.0.0.1:5080 SIP/2.0\n" +
			"Via: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK-1\n" +
			"From: <sip:alice@127.0.0.1>;tag=1\nTo: <sip:*43@127.0.0.1>\n" +
			"Call-ID: c1@x\nCSeq: 1 INVITE\nMax-Forwards: 70\n" +
			"X-Caller-Template: " + tmpl + ";user=alice\n\n"
		req, err := routing.ParseRequest([]byte(raw), netip.MustParseAddrPort("127.0.0.1:5062"), "udp")
		if err != nil {
			t.Fatal(err)
		}
		r, err := b.Route(context.Background(), req)
		if err != nil {
			t.Fatalf("route with %s: %v", tmpl, err)
		}
		if r.Caller == nil {
			t.Fatalf("route with %s: no caller profile", tmpl)
		}
		return r
	}
	blf, noblf := route("subscriber"), route("subscriber-noblf")
	if !blf.Caller.PublishDialogInfo || noblf.Caller.PublishDialogInfo {
		t.Fatalf("publish-dialog-info: subscriber %v, subscriber-noblf %v; want true, false",
			blf.Caller.PublishDialogInfo, noblf.Caller.PublishDialogInfo)
	}
	if blf.Context != noblf.Context || blf.Exten != noblf.Exten || (blf.Callee == nil) != (noblf.Callee == nil) {
		t.Fatalf("dialplan: %s/%s (callee %v) vs %s/%s (callee %v)", blf.Context, blf.Exten, blf.Callee != nil,
			noblf.Context, noblf.Exten, noblf.Callee != nil)
	}
	a, n := *blf.Caller, *noblf.Caller
	a.Template, a.PublishDialogInfo = "", false
	n.Template, n.PublishDialogInfo = "", false
	if !reflect.DeepEqual(a, n) {
		t.Fatalf("caller profiles differ beyond the template name and BLF:\n%+v\n%+v", a, n)
	}
}
