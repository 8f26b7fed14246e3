package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
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
// own.
func startSidecar(t *testing.T, dir, name, ip string) *sidecar {
	t.Helper()
	bin := sidecarBinary(t)
	port := freePort(t, ip)
	rtp := freePortPair(t, ip)
	if rtp > 65400 {
		rtp = 40000
	}
	ini := fmt.Sprintf(`[general]
log-level = debug

[sip]
listen = udp:%[1]s:%[2]d, tcp:%[1]s:%[2]d
trusted = %[3]s
identify = header, anonymous
drain-grace = 5s

[rtp]
ports = %[4]d-%[5]d
address = %[1]s
bind = %[1]s
`, ip, port, kamIP, rtp, rtp+99)
	path := filepath.Join(dir, name+".ini")
	mustWrite(t, path, ini)
	p := startProc(t, dir, name, bin, "serve", "-config", path)
	return &sidecar{proc: p, ip: ip, port: port}
}

// sidecarPool starts two real sidecars and Kamailio with them as its pool, and waits until
// Kamailio's OPTIONS probes find both up.
func sidecarPool(t *testing.T, dir string) (*kamailio, [2]*sidecar) {
	t.Helper()
	sc := [2]*sidecar{startSidecar(t, dir, "sidecar1", sidecar1), startSidecar(t, dir, "sidecar2", sidecar2)}
	k := startKamailio(t, dir, []string{sc[0].addr(), sc[1].addr()})
	k.waitPool(t, map[string]string{sc[0].addr(): "AP", sc[1].addr(): "AP"}, 15e9)
	return k, sc
}
