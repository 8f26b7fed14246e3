package sipsvc_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// floodCgroup is the pair of groups the flood test runs in, made under the test process's own
// group (its delegated root) by cgroupFS.setup: sidecar (the test process, CPU quota share of
// quotaPeriod) and sipp (SIPp, no quota), both in top, weighted floodShares (v1 cpu.shares) or
// floodWeight (v2 cpu.weight) so the neighbours on a shared host do not take the share given.
type floodCgroup struct {
	v2                 bool
	parent             string // the group the test process was in, to go back to
	top, sidecar, sipp string
	made               []string // the directories made, in order
	fs                 *cgroupFS
}

// cgroupFS is one cgroup hierarchy the flood test may use: v1 the cpu controller's own mount
// (/sys/fs/cgroup/cpu), v2 the unified mount (/sys/fs/cgroup). Its fields are what the
// kernel would give, so a test can point it at a directory tree of its own.
type cgroupFS struct {
	root     string // the hierarchy's mount point
	v2       bool
	procSelf []byte                     // the text of /proc/self/cgroup
	remove   func(dir string) error     // rmdir of a group (os.Remove)
	sleep    func(d time.Duration)      // between rmdir attempts of a group the kernel is emptying
	write    func(path, v string) error // a control file write (os.WriteFile)
}

// floodWeight is the cgroup v2 cpu.weight of the flood's top group: 8x a default group's
// 100, as floodShares is 8x v1's 1024.
const floodWeight = 800

// hostCgroupFS is the hierarchy of the running kernel: v1's cpu controller when it is
// mounted on its own (/sys/fs/cgroup/cpu), else v2's unified one when /sys/fs/cgroup is it.
func hostCgroupFS() ([]*cgroupFS, error) {
	self, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return nil, fmt.Errorf("read own cgroup: %w", err)
	}
	var fss []*cgroupFS
	if _, err := os.Stat("/sys/fs/cgroup/cpu/cpu.cfs_quota_us"); err == nil {
		fss = append(fss, newCgroupFS("/sys/fs/cgroup/cpu", false, self))
	}
	if _, err := os.Stat("/sys/fs/cgroup/cgroup.controllers"); err == nil {
		fss = append(fss, newCgroupFS("/sys/fs/cgroup", true, self))
	}
	return fss, nil
}

func newCgroupFS(root string, v2 bool, self []byte) *cgroupFS {
	return &cgroupFS{root: root, v2: v2, procSelf: self, remove: os.Remove, sleep: time.Sleep,
		write: func(p, v string) error { return os.WriteFile(p, []byte(v), 0o644) }}
}

// String names the hierarchy for logs.
func (fs *cgroupFS) String() string {
	if fs.v2 {
		return "cgroup v2 " + fs.root
	}
	return "cgroup v1 " + fs.root
}

// ownGroup is the test process's group in the hierarchy, from /proc/self/cgroup: the
// "0::/path" line for v2, the line whose controllers include cpu for v1 ("" when absent).
func (fs *cgroupFS) ownGroup() (string, error) {
	for _, l := range strings.Split(string(fs.procSelf), "\n") {
		f := strings.SplitN(l, ":", 3)
		if len(f) != 3 {
			continue
		}
		if fs.v2 && f[0] == "0" && f[1] == "" || !fs.v2 && slices.Contains(strings.Split(f[1], ","), "cpu") {
			return filepath.Join(fs.root, filepath.Clean("/"+f[2])), nil
		}
	}
	if fs.v2 {
		return "", errors.New("no 0:: line in /proc/self/cgroup")
	}
	return "", errors.New("no cpu line in /proc/self/cgroup")
}

// setup makes the flood's groups under the process's own group and moves pid into the
// sidecar's: its CPU quota share of one CPU per quotaPeriod (v1 cpu.cfs_period_us and
// cpu.cfs_quota_us, v2 cpu.max), its cpuset sidecarCPU and SIPp's sippCPU on v2 when the
// cpuset controller is there (v1: the affinity pins them, pinFlood), the top group's weight.
// On v2 it enables the cpu (and cpuset) controller for the children of the own group and of
// top (cgroup.subtree_control); the kernel refuses that (EBUSY) when the own group holds
// other processes and is not the root: a delegated root with no process of its own is
// needed. On an error it undoes what it made.
func (fs *cgroupFS) setup(pid int, share float64, sidecarCPU, sippCPU int) (*floodCgroup, error) {
	parent, err := fs.ownGroup()
	if err != nil {
		return nil, fmt.Errorf("find own group in %s: %w", fs, err)
	}
	top := filepath.Join(parent, fmt.Sprintf("sidecar-flood-%d", pid))
	g := &floodCgroup{v2: fs.v2, parent: parent, top: top, sidecar: filepath.Join(top, "sidecar"),
		sipp: filepath.Join(top, "sipp"), fs: fs}
	period := quotaPeriod.Microseconds()
	quota := int64(share * float64(period))
	write := func(dir, file, v string) error {
		if err := fs.write(filepath.Join(dir, file), v); err != nil {
			return fmt.Errorf("write %q to %s: %w", v, filepath.Join(dir, file), err)
		}
		return nil
	}
	var steps []func() error
	mkdir := func(d string) func() error {
		return func() error {
			if err := os.Mkdir(d, 0o755); err != nil {
				return fmt.Errorf("make group: %w", err)
			}
			g.made = append(g.made, d)
			return nil
		}
	}
	if fs.v2 {
		avail, err := os.ReadFile(filepath.Join(parent, "cgroup.controllers"))
		if err != nil {
			return nil, fmt.Errorf("read controllers of %s: %w", parent, err)
		}
		ctls := strings.Fields(string(avail))
		if !slices.Contains(ctls, "cpu") {
			return nil, fmt.Errorf("no cpu controller delegated to %s (cgroup.controllers: %q)", parent, strings.TrimSpace(string(avail)))
		}
		enable := "+cpu"
		cpuset := slices.Contains(ctls, "cpuset")
		if cpuset {
			enable += " +cpuset"
		}
		steps = append(steps,
			func() error { return write(parent, "cgroup.subtree_control", enable) },
			mkdir(top),
			func() error { return write(top, "cpu.weight", strconv.Itoa(floodWeight)) },
			func() error { return write(top, "cgroup.subtree_control", enable) },
			mkdir(g.sidecar), mkdir(g.sipp),
			func() error { return write(g.sidecar, "cpu.max", fmt.Sprintf("%d %d", quota, period)) })
		if cpuset {
			steps = append(steps,
				func() error { return write(g.sidecar, "cpuset.cpus", strconv.Itoa(sidecarCPU)) },
				func() error { return write(g.sipp, "cpuset.cpus", strconv.Itoa(sippCPU)) })
		}
	} else {
		steps = append(steps, mkdir(top), mkdir(g.sidecar), mkdir(g.sipp),
			func() error { return write(top, "cpu.shares", strconv.Itoa(floodShares)) },
			func() error { return write(g.sidecar, "cpu.cfs_period_us", strconv.FormatInt(period, 10)) },
			func() error { return write(g.sidecar, "cpu.cfs_quota_us", strconv.FormatInt(quota, 10)) })
	}
	// Every thread of the process, last: a failure before leaves it where it was.
	steps = append(steps, func() error { return write(g.sidecar, "cgroup.procs", strconv.Itoa(pid)) })
	for _, s := range steps {
		if err := s(); err != nil {
			g.removeGroups()
			return nil, fmt.Errorf("set up the flood's groups in %s: %w", fs, err)
		}
	}
	return g, nil
}

// close moves pid back to the group it came from and removes the groups.
func (g *floodCgroup) close(pid int) error {
	err := g.fs.write(filepath.Join(g.parent, "cgroup.procs"), strconv.Itoa(pid))
	if err != nil {
		err = fmt.Errorf("leave the flood's cgroup: %w", err)
	}
	if left := g.removeGroups(); left != "" {
		err = errors.Join(err, fmt.Errorf("remove the flood's cgroup %s: still busy", left))
	}
	return err
}

// removeGroups removes the groups made, innermost first; it returns the first it could not
// remove ("" when none is left).
func (g *floodCgroup) removeGroups() (left string) {
	for _, d := range slices.Backward(g.made) {
		// The kernel empties a group asynchronously: rmdir fails with EBUSY for a moment.
		gone := false
		for i := 0; i < 100 && !gone; i++ {
			if err := g.fs.remove(d); err == nil || os.IsNotExist(err) {
				gone = true
			} else {
				g.fs.sleep(10 * time.Millisecond)
			}
		}
		if !gone && left == "" {
			left = d
		}
	}
	g.made = nil
	return left
}

// throttled reads how many periods of the quota the sidecar's group was throttled in, and
// for how long in all (v1 throttled_time in ns, v2 throttled_usec), from its cpu.stat.
func (g *floodCgroup) throttled() (periods int, d time.Duration) {
	b, err := os.ReadFile(filepath.Join(g.sidecar, "cpu.stat"))
	if err != nil {
		return 0, 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		k, v, _ := strings.Cut(l, " ")
		n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		switch k {
		case "nr_throttled":
			periods = int(n)
		case "throttled_time":
			d = time.Duration(n)
		case "throttled_usec":
			d = time.Duration(n) * time.Microsecond
		}
	}
	return periods, d
}
