package sipsvc_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fakeCgroupFS is a cgroupFS on a directory tree of the test's: control files are plain
// files, a group a plain directory (removed whole), /proc/self/cgroup the text given.
func fakeCgroupFS(t *testing.T, v2 bool, self string) *cgroupFS {
	t.Helper()
	fs := newCgroupFS(t.TempDir(), v2, []byte(self))
	fs.remove = os.RemoveAll
	fs.sleep = func(time.Duration) {}
	return fs
}

func readCtl(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("control file: %v", err)
	}
	return string(b)
}

// The cgroup v2 path of the flood test's CPU limit, on a tree of the test's (the host runs
// v1): under the own group of /proc/self/cgroup's 0:: line, the controllers enabled for the
// children, the top group weighted, the sidecar's cpu.max and both cpusets, the process
// moved in last, and out again with the groups removed on close.
func TestFloodCgroupV2Setup(t *testing.T) {
	fs := fakeCgroupFS(t, true, "0::/user.slice/user-0.slice/session-3.scope\n")
	own := filepath.Join(fs.root, "user.slice/user-0.slice/session-3.scope")
	if err := os.MkdirAll(own, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(own, "cgroup.controllers"), []byte("cpuset cpu io memory pids\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	g, err := fs.setup(4242, 0.25, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	if g.parent != own || g.top != filepath.Join(own, "sidecar-flood-4242") || !g.v2 {
		t.Fatalf("groups: parent %s top %s v2 %v", g.parent, g.top, g.v2)
	}
	for path, want := range map[string]string{
		filepath.Join(own, "cgroup.subtree_control"):   "+cpu +cpuset",
		filepath.Join(g.top, "cgroup.subtree_control"): "+cpu +cpuset",
		filepath.Join(g.top, "cpu.weight"):             "800",
		filepath.Join(g.sidecar, "cpu.max"):            "2500 10000",
		filepath.Join(g.sidecar, "cpuset.cpus"):        "0",
		filepath.Join(g.sipp, "cpuset.cpus"):           "1",
		filepath.Join(g.sidecar, "cgroup.procs"):       "4242",
	} {
		if got := readCtl(t, path); got != want {
			t.Errorf("%s = %q, want %q", strings.TrimPrefix(path, fs.root), got, want)
		}
	}
	if _, err := os.Stat(filepath.Join(g.sidecar, "cpu.cfs_quota_us")); err == nil {
		t.Error("v1's cpu.cfs_quota_us written on v2")
	}
	if err := os.WriteFile(filepath.Join(g.sidecar, "cpu.stat"),
		[]byte("usage_usec 100\nnr_periods 50\nnr_throttled 7\nthrottled_usec 1500\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if n, d := g.throttled(); n != 7 || d != 1500*time.Microsecond {
		t.Errorf("throttled %d periods, %v; want 7, 1.5ms", n, d)
	}
	if err := g.close(4242); err != nil {
		t.Fatal(err)
	}
	if got := readCtl(t, filepath.Join(own, "cgroup.procs")); got != "4242" {
		t.Errorf("back in the own group: cgroup.procs %q", got)
	}
	if _, err := os.Stat(g.top); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("top group left after close: %v", err)
	}
}

// Without the cpuset controller v2 limits the CPU alone (the affinity pins); without the cpu
// controller, or with the own group's subtree_control refused (EBUSY: other processes in a
// group that is not the root), it fails, saying where, and leaves nothing behind.
func TestFloodCgroupV2Refused(t *testing.T) {
	fs := fakeCgroupFS(t, true, "12:cpu,cpuacct:/ignored\n0::/\n")
	ctl := filepath.Join(fs.root, "cgroup.controllers")
	if err := os.WriteFile(ctl, []byte("cpu memory\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	g, err := fs.setup(7, 0.5, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	if got := readCtl(t, filepath.Join(g.sidecar, "cpu.max")); got != "5000 10000" {
		t.Errorf("cpu.max %q", got)
	}
	if got := readCtl(t, filepath.Join(fs.root, "cgroup.subtree_control")); got != "+cpu" {
		t.Errorf("subtree_control %q, want +cpu only", got)
	}
	if _, err := os.Stat(filepath.Join(g.sidecar, "cpuset.cpus")); err == nil {
		t.Error("cpuset.cpus written without the cpuset controller")
	}
	if err := g.close(7); err != nil {
		t.Fatal(err)
	}

	if err := os.WriteFile(ctl, []byte("memory pids\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := fs.setup(7, 0.25, 0, 1); err == nil || !strings.Contains(err.Error(), "no cpu controller") {
		t.Errorf("no cpu controller: %v", err)
	}

	if err := os.WriteFile(ctl, []byte("cpu cpuset\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	busy := errors.New("device or resource busy")
	fs.write = func(p, v string) error {
		if filepath.Base(p) == "cgroup.subtree_control" {
			return busy
		}
		return os.WriteFile(p, []byte(v), 0o644)
	}
	_, err = fs.setup(7, 0.25, 0, 1)
	if !errors.Is(err, busy) || !strings.Contains(err.Error(), "cgroup.subtree_control") {
		t.Errorf("subtree_control refused: %v", err)
	}
	ents, _ := os.ReadDir(fs.root)
	for _, e := range ents {
		if e.IsDir() {
			t.Errorf("left behind: %s", e.Name())
		}
	}
}

// The v1 path: under the group of the cpu controller's line, cpu.shares on top, the quota in
// cfs_period_us/cfs_quota_us, throttled_time in ns; the process moved in last, so a write
// refused before leaves it where it was and removes the groups.
func TestFloodCgroupV1Setup(t *testing.T) {
	fs := fakeCgroupFS(t, false, "4:memory:/x\n3:cpu,cpuacct:/ci/job\n0::/\n")
	own := filepath.Join(fs.root, "ci/job")
	if err := os.MkdirAll(own, 0o755); err != nil {
		t.Fatal(err)
	}
	g, err := fs.setup(99, 0.25, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		filepath.Join(g.top, "cpu.shares"):            "8192",
		filepath.Join(g.sidecar, "cpu.cfs_period_us"): "10000",
		filepath.Join(g.sidecar, "cpu.cfs_quota_us"):  "2500",
		filepath.Join(g.sidecar, "cgroup.procs"):      "99",
	} {
		if got := readCtl(t, path); got != want {
			t.Errorf("%s = %q, want %q", strings.TrimPrefix(path, fs.root), got, want)
		}
	}
	if err := os.WriteFile(filepath.Join(g.sidecar, "cpu.stat"),
		[]byte("nr_periods 50\nnr_throttled 3\nthrottled_time 2000000\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if n, d := g.throttled(); n != 3 || d != 2*time.Millisecond {
		t.Errorf("throttled %d periods, %v; want 3, 2ms", n, d)
	}
	if err := g.close(99); err != nil {
		t.Fatal(err)
	}

	fs.write = func(p, v string) error {
		if filepath.Base(p) == "cpu.cfs_quota_us" {
			return os.ErrPermission
		}
		return os.WriteFile(p, []byte(v), 0o644)
	}
	if _, err := fs.setup(99, 0.25, 0, 1); !errors.Is(err, os.ErrPermission) {
		t.Errorf("quota refused: %v", err)
	}
	if _, err := os.Stat(filepath.Join(own, "sidecar-flood-99")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("groups left after a refused write: %v", err)
	}
}
