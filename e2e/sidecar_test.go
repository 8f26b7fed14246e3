package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// The sidecar binary is built once per test run, on first use, into buildDir.
var (
	buildOnce sync.Once
	buildDir  string
	buildBin  string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// sidecarBinary builds ./cmd/sidecar (once per run) and returns the binary's path.
func sidecarBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "sidecar-e2e-bin-")
		if buildErr != nil {
			return
		}
		buildBin = filepath.Join(buildDir, "sidecar")
		cmd := exec.Command("go", "build", "-o", buildBin, "./cmd/sidecar")
		cmd.Dir = repoRoot(t)
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build ./cmd/sidecar: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return buildBin
}

// sidecar is a running `sidecar serve`.
type sidecar struct {
	*proc
	ip   string
	port int
}

// addr is the sidecar's SIP address as the dispatcher list names it.
func (s *sidecar) addr() string { return fmt.Sprintf("%s:%d", s.ip, s.port) }

// startSidecar runs `sidecar serve` on ip with a generated sidecar.ini: SIP on a free UDP and
// TCP port, trusting Kamailio's address only, the embedded templates, and an RTP range of its
// own. templates is the template directory, "" for the templates embedded in the binary.
func startSidecar(t *testing.T, dir, name, ip, templates string) *sidecar {
	t.Helper()
	return startSidecarINI(t, dir, name, ip, templates, "")
}

// startSidecarINI is startSidecar with more settings appended to its sidecar.ini (an [admin]
// section, ...).
func startSidecarINI(t *testing.T, dir, name, ip, templates, extra string) *sidecar {
	t.Helper()
	return startSidecarStore(t, dir, name, ip, templates, filepath.Join(dir, name+"-voicemail"), 0, extra)
}

// startSidecarStore is startSidecarINI with the [voicemail] dir given (a sidecar restarted on
// the store of one that was killed) and rtpPorts RTP ports (0: 100, for 50 calls).
func startSidecarStore(t *testing.T, dir, name, ip, templates, vmdir string, rtpPorts int, extra string) *sidecar {
	t.Helper()
	bin := sidecarBinary(t)
	port := freePort(t, ip)
	if rtpPorts == 0 {
		rtpPorts = 100
	}
	rtp := freePortPair(t, ip)
	if rtp > 65500-rtpPorts {
		rtp = 40000
	}
	ini := fmt.Sprintf(`[general]
log-level = debug
templates = %[6]s

[sip]
listen = udp:%[1]s:%[2]d, tcp:%[1]s:%[2]d
trusted = %[3]s
identify = header, anonymous
drain-grace = 5s

[rtp]
ports = %[4]d-%[5]d
address = %[1]s
bind = %[1]s

[voicemail]
dir = %[7]s
`, ip, port, kamIP, rtp, rtp+rtpPorts-1, templates, vmdir) + extra
	path := filepath.Join(dir, name+".ini")
	mustWrite(t, path, ini)
	p := startProc(t, dir, name, bin, "serve", "-config", path)
	return &sidecar{proc: p, ip: ip, port: port}
}

// sidecarPool starts two real sidecars on templates ("" for the embedded ones) and Kamailio
// with them as its pool, and waits until Kamailio's OPTIONS probes find both up.
func sidecarPool(t *testing.T, dir, templates string) (*kamailio, [2]*sidecar) {
	t.Helper()
	sc := [2]*sidecar{startSidecar(t, dir, "sidecar1", sidecar1, templates), startSidecar(t, dir, "sidecar2", sidecar2, templates)}
	k := startKamailio(t, dir, []string{sc[0].addr(), sc[1].addr()})
	k.waitPool(t, map[string]string{sc[0].addr(): "AP", sc[1].addr(): "AP"}, 15e9)
	return k, sc
}

// echoTemplates returns the template directory for the echo test: "" (the embedded templates)
// when the shipped dialplan has *43, else a copy of the shipped templates whose
// from-subscriber context also has "exten => *43,1,Answer()" and "same => n,Echo()", so that
// the media path through Kamailio is tested before the shipped dialplan names the extension.
func echoTemplates(t *testing.T, dir string) string {
	t.Helper()
	if shippedDialplanHas(t, "*43") {
		return ""
	}
	src := filepath.Join(repoRoot(t), "templates")
	dst := filepath.Join(dir, "templates")
	if err := os.MkdirAll(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(src, "*.conf"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		text := string(b)
		if filepath.Base(f) == "extensions.conf" {
			const ctx = "[from-subscriber]\n"
			if !strings.Contains(text, ctx) {
				t.Fatalf("the shipped extensions.conf has no %q line", ctx)
			}
			text = strings.Replace(text, ctx, ctx+"exten => *43,1,Answer()\n same => n,Echo()\n", 1)
		}
		mustWrite(t, filepath.Join(dst, filepath.Base(f)), text)
	}
	t.Logf("the shipped dialplan has no *43 yet: the sidecars run a copy with *43 => Answer(), Echo() in from-subscriber")
	return dst
}
