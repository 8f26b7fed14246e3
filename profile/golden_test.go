package profile_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"
	"github.com/google/go-cmp/cmp"
	"golang.org/x/tools/txtar"

	"github.com/sidecar-voip/sidecar/profile"
	"github.com/sidecar-voip/sidecar/request"
	"github.com/sidecar-voip/sidecar/templates"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// TestGolden runs every testdata/golden/*.txtar case: its *.conf files (or the shipped
// templates when it has none) are loaded and compiled; then each "request*.sip" file is parsed
// with sipgo, [template-match] selects the templates and both profiles are built. The output
// (load errors and warnings, or each request's profiles as JSON, or the exact error) must
// equal the "want" file. Run with -update to rewrite "want".
//
// An optional "source" file holds "IP:PORT TRANSPORT" for the requests (default
// "192.0.2.10:5060 udp").
func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/golden/*.txtar")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files: %v", err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txtar"), func(t *testing.T) {
			ar, err := txtar.ParseFile(file)
			if err != nil {
				t.Fatal(err)
			}
			got := runGolden(t, ar)
			i := wantIndex(ar)
			if *update {
				if i < 0 {
					ar.Files = append(ar.Files, txtar.File{Name: "want"})
					i = len(ar.Files) - 1
				}
				ar.Files[i].Data = []byte(got)
				if err := os.WriteFile(file, txtar.Format(ar), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if i < 0 {
				t.Fatalf("%s has no want file: run go test -run TestGolden -update", file)
			}
			if diff := cmp.Diff(string(ar.Files[i].Data), got); diff != "" {
				t.Errorf("%s: output differs (-want +got):\n%s", file, diff)
			}
		})
	}
}

func wantIndex(ar *txtar.Archive) int {
	for i, f := range ar.Files {
		if f.Name == "want" {
			return i
		}
	}
	return -1
}

func runGolden(t *testing.T, ar *txtar.Archive) string {
	t.Helper()
	var fsys fs.FS = templates.FS
	src, transport := netip.MustParseAddrPort("192.0.2.10:5060"), "udp"
	var reqs []txtar.File
	for _, f := range ar.Files {
		switch {
		case strings.HasSuffix(f.Name, ".conf"):
			var err error
			if fsys, err = txtar.FS(ar); err != nil {
				t.Fatal(err)
			}
		case strings.HasPrefix(f.Name, "request") && strings.HasSuffix(f.Name, ".sip"):
			reqs = append(reqs, f)
		case f.Name == "source":
			a, tr, _ := strings.Cut(strings.TrimSpace(string(f.Data)), " ")
			src, transport = netip.MustParseAddrPort(a), tr
		}
	}
	var out strings.Builder
	set, errs, warns := profile.CheckFS(fsys, ".")
	for _, e := range errs {
		fmt.Fprintf(&out, "error: %s\n", e)
	}
	for _, w := range warns {
		fmt.Fprintf(&out, "warning: %s\n", w)
	}
	if set == nil {
		if len(errs) == 0 {
			t.Fatal("nil Set without errors")
		}
		return out.String()
	}
	fmt.Fprintf(&out, "templates: %s\n", strings.Join(set.Templates(), " "))
	for _, f := range reqs {
		fmt.Fprintf(&out, "== %s\n", f.Name)
		req := parseSIP(t, f.Data, src, transport)
		caller, callee, err := set.Select(req)
		if err != nil {
			fmt.Fprintf(&out, "select error: %v\n", err)
			continue
		}
		for _, side := range []struct {
			role profile.Role
			m    profile.Match
		}{{profile.RoleCaller, caller}, {profile.RoleCallee, callee}} {
			if side.m.Name == "" {
				fmt.Fprintf(&out, "%s: no template\n", side.role)
				continue
			}
			p, err := set.Build(side.m, side.role, req)
			if err != nil {
				fmt.Fprintf(&out, "%s: error: %v\n", side.role, err)
				continue
			}
			js, err := json.MarshalIndent(p, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&out, "%s: %s\n", side.role, js)
			if !p.MailboxPIN.IsZero() {
				fmt.Fprintf(&out, "%s pin: %s\n", side.role, profile.RevealSecret(p.MailboxPIN))
			}
		}
	}
	return out.String()
}

// parseSIP parses a request written with LF line endings and no body.
func parseSIP(t *testing.T, data []byte, src netip.AddrPort, transport string) *request.Request {
	t.Helper()
	data = bytes.TrimSpace(data)
	data = bytes.ReplaceAll(data, []byte("\n"), []byte("\r\n"))
	data = append(data, "\r\nContent-Length: 0\r\n\r\n"...)
	msg, err := sip.ParseMessage(data)
	if err != nil {
		t.Fatalf("parse request: %v", err)
	}
	req, err := request.FromSIP(msg.(*sip.Request), src, transport)
	if err != nil {
		t.Fatal(err)
	}
	return req
}
