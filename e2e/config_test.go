package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestConfigCheck runs `kamailio -c` on examples/kamailio.cfg: with its defaults, with the
// suite's parameters, without the presence modules, and (to show the check can fail) with a
// broken copy.
func TestConfigCheck(t *testing.T) {
	requireE2E(t)
	dir := newRunDir(t)
	prepareKamailioDir(t, dir, []string{sidecar1 + ":5080"})
	cfg := filepath.Join(repoRoot(t), "examples", "kamailio.cfg")
	broken := filepath.Join(dir, "broken.cfg")
	b, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	mustWrite(t, broken, strings.Replace(string(b), "route(REQINIT);", "route(REQINIT)", 1))

	tests := []struct {
		name   string
		cfg    string
		args   []string
		wantOK bool
	}{
		{"defaults", cfg, nil, true},
		{"suite parameters", cfg, kamailioArgs(dir, freePort(t, kamIP)), true},
		{"without presence", cfg, append(kamailioArgs(dir, freePort(t, kamIP)), "-A", "WITHOUT_PRESENCE"), true},
		{"debug", cfg, append(kamailioArgs(dir, freePort(t, kamIP)), "-A", "WITH_DEBUG"), true},
		{"syntax error", broken, kamailioArgs(dir, freePort(t, kamIP)), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := runCmd("kamailio", append([]string{"-c", "-f", tc.cfg}, tc.args...)...)
			if ok := err == nil && strings.Contains(out, "config file ok"); ok != tc.wantOK {
				t.Errorf("kamailio -c: ok=%v, want %v; output:\n%s", ok, tc.wantOK, out)
			}
		})
	}
}
