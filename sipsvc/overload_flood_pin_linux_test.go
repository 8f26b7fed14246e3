package sipsvc_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
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

	// quota is the share of its CPU the test process may use (a cgroup CPU quota, cfs period
	// quotaPeriod), 0 when no quota is set; cg the groups (the sidecar's, SIPp's), sippGroup
	// the group SIPp starts in.
	quota     float64
	cg        *floodCgroup
	sippGroup string
}

// quotaPeriod is the CFS period of the flood's CPU quota: short, so a throttled sidecar
// waits at most the rest of a period (under 10 ms) before it runs again, a few ms added
// to a call's latency, not the 100 ms of the default period.
const quotaPeriod = 10 * time.Millisecond

// floodShares is the cpu.shares of the group holding the sidecar's and SIPp's groups: 8x a
// nice-0 process group's 1024, so the quota the sidecar is given is the CPU it gets, and
// SIPp its whole core, while other processes share the machine (they still get what the
// two leave; the quota caps the sidecar).
const floodShares = 8192

// errNoCgroup: no writable cgroup cpu controller, v1 or v2 (a container, a v2 group not
// delegated, not root).
var errNoCgroup = errors.New("no writable cgroup cpu controller (v1 or v2)")

// limitCPU gives the sidecar and SIPp a defined share of the machine, until the test ends:
// it moves the whole test process into a new cgroup limited to share of one CPU
// (quotaPeriod), so SIPp on its own CPU can generate 3x the sidecar's capacity, and makes a
// group for SIPp (command starts SIPp in it), both under a group weighted over the host's
// other groups (cgroupFS.setup): cgroup v1's cpu controller when mounted, else v2's in the
// test process's own group (a delegated root). p.quota, p.cg and p.sippGroup say so.
// Without a writable cpu controller it returns errNoCgroup (wrapped, with each hierarchy's
// reason) and changes nothing.
func (p *floodPin) limitCPU(t *testing.T, share float64) error {
	t.Helper()
	fss, err := hostCgroupFS()
	if err != nil {
		return fmt.Errorf("limit CPU: %w: %v", errNoCgroup, err)
	}
	if len(fss) == 0 {
		return fmt.Errorf("limit CPU: %w: neither /sys/fs/cgroup/cpu (v1) nor /sys/fs/cgroup/cgroup.controllers (v2)", errNoCgroup)
	}
	var why []string
	for _, fs := range fss {
		g, err := fs.setup(os.Getpid(), share, p.sidecar, p.sipp)
		if err != nil {
			why = append(why, err.Error())
			continue
		}
		p.quota, p.cg, p.sippGroup = share, g, g.sipp
		t.Cleanup(func() {
			if err := g.close(os.Getpid()); err != nil {
				t.Error(err)
			}
		})
		return nil
	}
	return fmt.Errorf("limit CPU: %w: %s", errNoCgroup, strings.Join(why, "; "))
}

// throttled reads how many periods of the quota the process was throttled in, and for how
// long in all (0, 0: no quota).
func (p floodPin) throttled() (periods int, d time.Duration) {
	if p.cg == nil {
		return 0, 0
	}
	return p.cg.throttled()
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
	args = append([]string{"-c", strconv.Itoa(p.sipp), bin}, args...)
	if p.sippGroup == "" {
		return p.taskset, args
	}
	// Into SIPp's group before it starts: the shell moves itself, then becomes taskset.
	script := `echo $$ >"$0/cgroup.procs" && exec "$@"`
	return "/bin/sh", append([]string{"-c", script, p.sippGroup, p.taskset}, args...)
}

// String describes the pinning for logs and RELIABILITY.md.
func (p floodPin) String() string {
	if !p.on {
		return "unpinned"
	}
	s := "the sidecar pinned to CPU " + strconv.Itoa(p.sidecar) + " (GOMAXPROCS 1)"
	if p.quota > 0 {
		weight := fmt.Sprintf("cgroup v1 CPU quota, %v period; the sidecar's and SIPp's groups under cpu.shares %d", quotaPeriod, floodShares)
		if p.cg.v2 {
			weight = fmt.Sprintf("cgroup v2 cpu.max, %v period, and cpuset; the sidecar's and SIPp's groups under cpu.weight %d", quotaPeriod, floodWeight)
		}
		s += fmt.Sprintf(" limited to %.0f%% of it (%s)", 100*p.quota, weight)
	}
	return s + ", SIPp to CPU " + strconv.Itoa(p.sipp)
}

// selfCPU is the CPU time the test process (the sidecar in it) has used.
func selfCPU() time.Duration {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// sockDiagUDPDrops reads the drops counter of the IPv4 UDP socket bound to port through
// sock_diag (sockDiagUDP). ok false: unknown.
func sockDiagUDPDrops(port uint16) (drops int, ok bool) {
	m, ok := sockDiagUDP(port)
	return m.drops, ok
}

// udpMem is a UDP socket's memory figures from sock_diag: the drops counter, and the bytes
// its receive queue holds (SK_MEMINFO_RMEM_ALLOC: datagrams not yet read, as the kernel
// accounts them, a few hundred bytes more than each datagram's length).
type udpMem struct{ drops, queued int }

// sockDiagUDP reads the memory figures of the IPv4 UDP socket bound to port through
// sock_diag (netlink, NETLINK_SOCK_DIAG with the source port as filter, INET_DIAG_SKMEMINFO):
// one socket's figures without rendering /proc/net/udp, which costs tens of ms of kernel
// time on a host with thousands of UDP sockets. ok false: unknown.
func sockDiagUDP(port uint16) (m udpMem, ok bool) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, unix.NETLINK_SOCK_DIAG)
	if err != nil {
		return udpMem{}, false
	}
	defer unix.Close(fd)
	const (
		hdrLen       = 16 // nlmsghdr
		reqLen       = 56 // inet_diag_req_v2
		msgLen       = 72 // inet_diag_msg
		skmeminfo    = 7  // INET_DIAG_SKMEMINFO
		flagsRequest = unix.NLM_F_REQUEST | unix.NLM_F_DUMP
	)
	req := make([]byte, hdrLen+reqLen)
	ne := binary.NativeEndian
	ne.PutUint32(req[0:], uint32(len(req)))
	ne.PutUint16(req[4:], unix.SOCK_DIAG_BY_FAMILY)
	ne.PutUint16(req[6:], flagsRequest)
	ne.PutUint32(req[8:], 1)
	b := req[hdrLen:]
	b[0], b[1], b[2] = unix.AF_INET, unix.IPPROTO_UDP, 1<<(skmeminfo-1)
	ne.PutUint32(b[4:], 0xffffffff)         // every state
	binary.BigEndian.PutUint16(b[8:], port) // id.sport: the filter
	ne.PutUint32(b[48:], 0xffffffff)        // cookie: none
	ne.PutUint32(b[52:], 0xffffffff)
	if err := unix.Sendto(fd, req, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return udpMem{}, false
	}
	buf := make([]byte, 1<<16)
	for {
		n, _, err := unix.Recvfrom(fd, buf, 0)
		if err != nil {
			return m, ok
		}
		for msg := buf[:n]; len(msg) >= hdrLen; {
			l := int(ne.Uint32(msg[0:]))
			if l < hdrLen || l > len(msg) {
				return m, ok
			}
			switch ne.Uint16(msg[4:]) {
			case unix.NLMSG_DONE, unix.NLMSG_ERROR:
				return m, ok
			}
			body := msg[hdrLen:l]
			if len(body) >= msgLen && binary.BigEndian.Uint16(body[4:]) == port {
				for a := body[msgLen:]; len(a) >= 4; {
					al, at := int(ne.Uint16(a[0:])), ne.Uint16(a[2:])
					if al < 4 || al > len(a) {
						break
					}
					if at == skmeminfo && al >= 4+4*(unix.SK_MEMINFO_DROPS+1) {
						m.drops += int(ne.Uint32(a[4+4*unix.SK_MEMINFO_DROPS:]))
						m.queued += int(ne.Uint32(a[4+4*unix.SK_MEMINFO_RMEM_ALLOC:]))
						ok = true
					}
					a = a[min(len(a), (al+3)&^3):]
				}
			}
			msg = msg[min(len(msg), (l+3)&^3):]
		}
	}
}
