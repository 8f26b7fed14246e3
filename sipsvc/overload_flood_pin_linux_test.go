package sipsvc_test

import (
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// floodPin is how the flood test shares the machine's cores with SIPp: the test process (the
// sidecar in it) on one CPU with GOMAXPROCS 1, SIPp on another, so the load generator never
// takes the sidecar's CPU and the sidecar never starves SIPp (which then drops the sidecar's
// answers in its own receive buffer and retransmits, measuring itself). Zero value: no
// pinning (one CPU only, or no taskset).
type floodPin struct {
	sidecar, sipp int
	taskset       string // taskset's path, to start SIPp on its CPU
	on            bool
}

// pinFlood pins every thread of the test process to the first CPU it may run on and keeps the
// second for SIPp (sippCommand), until the test ends. Without two CPUs or taskset it pins
// nothing and says so.
func pinFlood(t *testing.T) floodPin {
	t.Helper()
	var all unix.CPUSet
	if err := unix.SchedGetaffinity(0, &all); err != nil {
		t.Logf("no pinning: sched_getaffinity: %v", err)
		return floodPin{}
	}
	var cpus []int
	for c := 0; c < 1024 && len(cpus) < 2; c++ {
		if all.IsSet(c) {
			cpus = append(cpus, c)
		}
	}
	ts, err := exec.LookPath("taskset")
	if len(cpus) < 2 || err != nil {
		t.Logf("no pinning: CPUs %v, taskset: %v", cpus, err)
		return floodPin{}
	}
	p := floodPin{sidecar: cpus[0], sipp: cpus[1], taskset: ts, on: true}
	var one unix.CPUSet
	one.Set(p.sidecar)
	if err := setThreadsAffinity(&one); err != nil {
		t.Fatalf("pin the test process to CPU %d: %v", p.sidecar, err)
	}
	prev := runtime.GOMAXPROCS(1)
	t.Cleanup(func() {
		if err := setThreadsAffinity(&all); err != nil {
			t.Errorf("unpin the test process: %v", err)
		}
		if os.Getenv("GOMAXPROCS") == "" {
			runtime.SetDefaultGOMAXPROCS()
		} else {
			runtime.GOMAXPROCS(prev)
		}
	})
	return p
}

// setThreadsAffinity sets the affinity of every thread of the process (a thread made later
// inherits its creator's), until a pass finds no thread it had not set.
func setThreadsAffinity(set *unix.CPUSet) error {
	done := map[int]bool{}
	for {
		ents, err := os.ReadDir("/proc/self/task")
		if err != nil {
			return err
		}
		fresh := false
		for _, e := range ents {
			tid, err := strconv.Atoi(e.Name())
			if err != nil || done[tid] {
				continue
			}
			if err := unix.SchedSetaffinity(tid, set); err != nil && err != unix.ESRCH {
				return err
			}
			done[tid], fresh = true, true
		}
		if !fresh {
			return nil
		}
	}
}

// command is bin with args, started on SIPp's CPU when pinned.
func (p floodPin) command(bin string, args ...string) (string, []string) {
	if !p.on {
		return bin, args
	}
	return p.taskset, append([]string{"-c", strconv.Itoa(p.sipp), bin}, args...)
}

// String describes the pinning for logs and RELIABILITY.md.
func (p floodPin) String() string {
	if !p.on {
		return "unpinned"
	}
	return "the sidecar pinned to CPU " + strconv.Itoa(p.sidecar) + " (GOMAXPROCS 1), SIPp to CPU " + strconv.Itoa(p.sipp)
}

// selfCPU is the CPU time the test process (the sidecar in it) has used.
func selfCPU() time.Duration {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
