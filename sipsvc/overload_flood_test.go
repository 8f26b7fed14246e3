package sipsvc_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sidecar-voip/sidecar/config"
	"github.com/sidecar-voip/sidecar/internal/reliability"
	"github.com/sidecar-voip/sidecar/sipsvc"
)

// floodRun is the outcome of one SIPp run of testdata/sipp/flood.xml.
type floodRun struct {
	rate, calls int
	elapsed     time.Duration
	failed      bool // SIPp exited non-zero: a call got something other than 486/503, or nothing
	out, errs   []byte
	admitted    uint64 // 486 answers, counted by the service
	refused     uint64 // overload 503s, counted by the service
	rtt         []float64

	// Where the CPU and the datagrams went during the run.
	sippCPU, selfCPU  time.Duration // SIPp's and the test process's (the sidecar's) CPU time
	sippDrops         int           // datagrams SIPp's socket dropped, its receive buffer full
	sidecarDrops      int           // datagrams the sidecar's socket dropped
	sidecarBusy       float64       // how busy the sidecar's CPU (all CPUs unpinned) was, 0-1
	sippBusy          float64       // how busy SIPp's CPU was (pinned), 0-1
	retrans, timeouts int           // SIPp's INVITE retransmissions and timed-out calls
	sent              float64       // the rate SIPp created calls at, by its own stats (0: unknown)
	throttled         time.Duration // how long the sidecar's CPU quota held it off its CPU

	// aborted says why the run was stopped before its end ("": it was not): the sidecar's
	// socket queued past the run's limit (sippFlood's stopQueued).
	aborted string
}

// usage is one line of a run's CPU and drop figures, for logs and failure messages.
func (r *floodRun) usage() string {
	s := r.elapsed.Seconds()
	return fmt.Sprintf("SIPp sent %.0f calls/s; sidecar CPU %.0f%% of a core (throttled %v), SIPp %.0f%%; drops: SIPp's socket %d, the sidecar's %d; "+
		"SIPp retransmissions %d; CPU busy (every process on the machine): the sidecar's %.0f%%, SIPp's %.0f%%",
		r.sent, 100*r.selfCPU.Seconds()/s, r.throttled.Round(time.Millisecond), 100*r.sippCPU.Seconds()/s, r.sippDrops,
		r.sidecarDrops, r.retrans, 100*r.sidecarBusy, 100*r.sippBusy)
}

// p returns the q quantile of the admitted calls' INVITE->486 times, in ms (NaN: none).
func (r *floodRun) p(q float64) float64 {
	if len(r.rtt) == 0 {
		return math.NaN()
	}
	s := slices.Clone(r.rtt)
	slices.Sort(s)
	return s[min(len(s)-1, int(q*float64(len(s))))]
}

// sippFlood runs flood.xml at rate new calls/s for secs seconds from 127.0.0.1 against e,
// SIPp on its CPU when pin says so, waiting for SIPp to end (bounded), and collects the
// admitted calls' response times and where the CPU and the datagrams went. With stopQueued
// > 0 it stops SIPp (its soft quit, SIGUSR1) as soon as the sidecar's socket holds more than
// stopQueued bytes not yet read (sampled every 100 ms; r.aborted says so): the run is then
// unclean anyway, and carried on past its capacity it leaves the sidecar a backlog of late
// calls whose transactions it keeps for half a minute (a ladder's next steps would measure
// that). SIPp's socket buffers are 4 MiB (net.core.rmem_max caps them): its default 64 KiB holds a few ms of
// the sidecar's answers at these rates, and SIPp descheduled for longer drops them.
func sippFlood(t *testing.T, e *env, pin floodPin, rate int, secs float64, stopQueued int) *floodRun {
	t.Helper()
	bin := sippBinary(t)
	dir := t.TempDir()
	text, err := os.ReadFile(filepath.Join("testdata", "sipp", "flood.xml"))
	if err != nil {
		t.Fatal(err)
	}
	scen := filepath.Join(dir, "flood.xml")
	if err := os.WriteFile(scen, text, 0o644); err != nil {
		t.Fatal(err)
	}
	calls := int(float64(rate) * secs)
	errFile := filepath.Join(dir, "errors.log")
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(secs*float64(time.Second))+60*time.Second)
	defer cancel()
	sippPort := freePort(t, "127.0.0.1")
	name, args := pin.command(bin, "-sf", scen,
		"-m", strconv.Itoa(calls), "-r", strconv.Itoa(rate), "-l", "50000", "-buff_size", strconv.Itoa(4<<20),
		"-timeout", strconv.Itoa(int(secs)+40)+"s", "-timeout_error", "-recv_timeout", "10000",
		"-max_recv_loops", "100000", "-max_sched_loops", "100000",
		"-trace_rtt", "-rtt_freq", "1",
		"-i", "127.0.0.1", "-p", strconv.Itoa(sippPort),
		"-ci", "127.0.0.1", "-cp", strconv.Itoa(freePort(t, "127.0.0.1")),
		"-trace_stat", "-stf", filepath.Join(dir, "stat.csv"), "-fd", "1",
		"-s", "busy", "-nostdin", "-trace_err", "-error_file", errFile, e.udp.String())
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	before := e.srv.Stats()
	cpuBefore, dropsBefore := selfCPU(), udpSocketDrops(e.udp.Port())
	sidecarCPU, sippCPU := -1, -1
	if pin.on {
		sidecarCPU, sippCPU = pin.sidecar, pin.sipp
	}
	_, thrBefore := pin.throttled()
	sb, st := cpuTicks(sidecarCPU)
	pb, pt := cpuTicks(sippCPU)
	// SIPp's socket is gone when it exits: its drops are sampled while it runs, through
	// sock_diag only (rendering /proc/net/udp for it would cost the sidecar's CPU).
	sippDrops, aborted := make(chan int, 1), make(chan string, 1)
	stop := make(chan struct{})
	var outBuf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &outBuf, &outBuf
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatalf("start sipp: %v", err)
	}
	go func() {
		last, why := 0, ""
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			if d, ok := sockDiagUDPDrops(uint16(sippPort)); ok && d > last {
				last = d
			}
			if m, ok := sockDiagUDP(e.udp.Port()); stopQueued > 0 && why == "" && ok && m.queued > stopQueued {
				why = fmt.Sprintf("stopped after %.1f s: the sidecar's socket queued %d KiB (limit %d KiB)",
					time.Since(start).Seconds(), m.queued>>10, stopQueued>>10)
				// SIPp's soft quit: no new calls, the calls under way completed (their 486
				// ACKed). Killed, it would leave each of them a transaction retransmitting
				// its 486 to nobody until Timer H, 32 s, slowing the next steps.
				if err := cmd.Process.Signal(syscall.SIGUSR1); err != nil {
					why += fmt.Sprintf(" (SIGUSR1: %v)", err)
				}
			}
			select {
			case <-stop:
				sippDrops <- last
				aborted <- why
				return
			case <-tick.C:
			}
		}
	}()
	err = cmd.Wait()
	out := outBuf.Bytes()
	close(stop)
	r := &floodRun{rate: rate, calls: calls, elapsed: time.Since(start), out: out,
		selfCPU: selfCPU() - cpuBefore, sidecarDrops: udpSocketDrops(e.udp.Port()) - dropsBefore, sippDrops: <-sippDrops,
		aborted: <-aborted}
	if ps := cmd.ProcessState; ps != nil {
		r.sippCPU = ps.UserTime() + ps.SystemTime()
	}
	sa, sta := cpuTicks(sidecarCPU)
	pa, pta := cpuTicks(sippCPU)
	r.sidecarBusy, r.sippBusy = busyShare(sa-sb, sta-st), busyShare(pa-pb, pta-pt)
	_, thrAfter := pin.throttled()
	r.throttled = thrAfter - thrBefore
	r.retrans, r.timeouts, r.sent = sippStatTotals(filepath.Join(dir, "stat.csv"), calls)
	if err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			t.Fatalf("sipp: %v", err)
		}
		r.failed = true
		r.errs, _ = os.ReadFile(errFile)
	}
	after := e.srv.Stats()
	r.admitted = after.Rejected[486] - before.Rejected[486]
	r.refused = after.OverloadInvites - before.OverloadInvites
	files, _ := filepath.Glob(filepath.Join(dir, "*_rtt.csv"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			fields := strings.Split(sc.Text(), ";")
			if len(fields) < 2 {
				continue
			}
			if v, err := strconv.ParseFloat(strings.TrimSpace(fields[1]), 64); err == nil {
				r.rtt = append(r.rtt, v)
			}
		}
	}
	return r
}

// sippErrorKinds counts the kinds of SIPp's error-file lines (dead calls that still ended
// well left out), for a failure message that says why calls failed.
func sippErrorKinds(errs []byte) string {
	kinds := map[string]int{}
	for _, l := range strings.Split(string(errs), "\n") {
		_, msg, ok := strings.Cut(l, ": ")
		if !ok || !strings.Contains(l, "\t") || strings.Contains(msg, "(successful)") {
			continue
		}
		if i := strings.IndexAny(msg, "0123456789'"); i > 0 {
			msg = msg[:i]
		}
		kinds[msg]++
	}
	var b strings.Builder
	for k, n := range kinds {
		fmt.Fprintf(&b, "%d x %s\n", n, k)
	}
	return b.String()
}

// vmKiB reads a VmRSS/VmHWM-style field of /proc/self/status, in KiB (0: unknown).
func vmKiB(field string) int {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(l, field+":"); ok {
			n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
			return n
		}
	}
	return 0
}

// clean says whether a ladder step's run was clean, issue 14's definition of a clean step:
// every call answered (SIPp: 0 failed calls, so no timeout), none refused, no INVITE
// retransmitted (a retransmission is an answer later than SIPp's 500 ms T1, or lost: the
// sidecar's queue or a dropped datagram), and the admitted calls' INVITE->486 p99 within
// ladderP99 ms; and SIPp created the calls at 95% of the rate or more (else it measured
// itself).
func (r *floodRun) clean() bool {
	return !r.failed && r.refused == 0 && r.admitted == uint64(r.calls) && r.retrans == 0 &&
		r.p(0.99) <= ladderP99 && (r.sent == 0 || r.sent >= 0.95*float64(r.rate))
}

// The overload test, with the default settings (max-cps unset, max-queue-delay
// 100ms): first the sustainable clean capacity of this machine, by a ladder of 5 s SIPp runs
// with overload control off (floodLadder: issue 14's clean step, the top one confirmed);
// then a flood at 3x that capacity for 30 s. The sidecar must complete
// at least 90% of the clean capacity, keep its admitted calls' INVITE->final p99 within
// 100 ms, answer every refused call 503 (SIPp fails a call that times out or gets anything
// else), keep its RSS bounded, and be back to normal (OPTIONS 200, a call answered) within
// 1 s of the flood's end.
//
// `make reliability` runs it (SIDECAR_RELIABILITY=1), `make unit` never: it takes a minute
// and a half, needs two CPUs and a writable cgroup cpu controller (v1, or v2 delegated: root
// or a delegated group), and what it measures is the CPU the host gives it, so a loaded CI
// box would fail it for the host's sake (RELIABILITY.md, Queue-delay flood).
func TestOverloadQueueDelayFlood(t *testing.T) {
	sippBinary(t)
	if os.Getenv("SIDECAR_RELIABILITY") != "1" {
		t.Skip("a one-minute flood on a defined CPU share: make reliability runs it (SIDECAR_RELIABILITY=1)")
	}
	if testing.Short() {
		t.Skip("a 30 s flood: not with -short")
	}
	// The ladder and the flood run under the same pinning and CPU quota, so the 3x is of the
	// capacity the sidecar has on its share of its core; the share is less than SIPp's whole
	// core, so SIPp can generate 3x that capacity (on one core SIPp cannot flood a sidecar
	// that has a whole core of its own at 3x).
	pin := pinFlood(t)
	share := 0.25
	if v := os.Getenv("SIDECAR_FLOOD_CPU"); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f <= 0 || f > 1 {
			t.Fatalf("SIDECAR_FLOOD_CPU=%q: want the sidecar's share of its CPU, 0-1", v)
		}
		share = f
	}
	if !pin.on {
		t.Skip("no pinning (see the log above): SIPp would share the sidecar's CPU and measure itself")
	}
	if err := pin.limitCPU(t, share); err != nil {
		t.Skipf("no CPU quota (%v): with a whole core the sidecar's capacity is more than SIPp on one core "+
			"floods at 3x", err)
	}
	t.Logf("cores: %s", pin)
	e := startEnvOpts(t, func(c *config.Config) {
		c.SIP.Trusted = config.MustParseTrustList("127.0.0.1/32")
		c.SIP.MaxCalls = 100000
		c.SIP.MaxQueueDelay = 0 // the ladder measures the clean capacity with no shedding
	}, func(o *sipsvc.Options) { o.Log = slog.New(slog.DiscardHandler) })
	defaults := config.Default()
	if defaults.SIP.MaxCPS != 0 || defaults.SIP.MaxQueueDelay <= 0 {
		t.Fatalf("defaults: max-cps %d, max-queue-delay %v; the test assumes 0 and a delay", defaults.SIP.MaxCPS,
			defaults.SIP.MaxQueueDelay)
	}

	// A warm-up, not counted: the first calls of a fresh process (templates, pools, the
	// heap growing) are slower than any that follow, and would decide the ladder's first step.
	w := sippFlood(t, e, pin, 100, 1, 0)
	t.Logf("warm-up 100 cps x 1 s: %d/%d answered, p99 %.0f ms; %s", w.admitted, w.calls, w.p(0.99), w.usage())

	capacity, ladder := floodLadder(t, e, pin)

	cfg := *e.cfg
	cfg.SIP.MaxQueueDelay = defaults.SIP.MaxQueueDelay
	if err := e.srv.Apply(&cfg); err != nil {
		t.Fatal(err)
	}
	// The ladder's memory is the test process's, not the flood's: returned to the OS, and the
	// peak (VmHWM) reset to the RSS now (/proc/self/clear_refs 5), the bound is the flood's.
	rssLadder := vmKiB("VmRSS")
	debug.FreeOSMemory()
	hwmReset := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
	rssBefore := vmKiB("VmRSS")
	t.Logf("RSS after the ladder %d KiB, %d KiB returned to the OS before the flood (peak reset: %v)",
		rssLadder, rssBefore, hwmReset)
	udpBefore, sockBefore := udpRcvbufErrors(), udpSocketDrops(e.udp.Port())
	const secs = 30
	rate := 3 * capacity
	o := newRawUAC(t, "127.0.0.1", e.udp)
	nq0, qmean0, _ := e.srv.QueueDelay()
	r := sippFlood(t, e, pin, rate, secs, 0)
	end := time.Now()
	t.Logf("flood %d cps: %s; %d calls timed out", rate, r.usage(), r.timeouts)
	if r.sent > 0 && r.sent < 0.9*float64(rate) {
		t.Errorf("SIPp created calls at %.0f/s, not the flood's %d/s: the load generator, not the sidecar, was short", r.sent, rate)
	}
	if r.failed {
		t.Errorf("flood at %d cps: a call failed (a timeout or an answer other than 486/503)\nerrors:\n%s\nlast errors:\n%s\noutput:\n%s",
			rate, sippErrorKinds(r.errs), tail(r.errs, 1500), tail(r.out, 1200))
	}
	// Back to normal: OPTIONS 200 and a call answered, within 1 s of the flood's end.
	waitFor(t, 5*time.Second, "OPTIONS 200 after the flood", func() bool {
		o.send(o.text(&msg{method: "OPTIONS", ruri: "sip:" + e.udp.String()}))
		return o.final(time.Second).StatusCode == 200
	})
	u := newRawUAC(t, "127.0.0.1", e.udp)
	inv, ok := answerCall(t, e, u)
	back := time.Since(end)
	tag, _ := ok.To().Params.Get("tag")
	hangUp(t, u, inv, tag, inv.cseq+1)
	hwm := vmKiB("VmHWM")
	nq, qmean, qmax := e.srv.QueueDelay()
	nq, qmean = nq-nq0, time.Duration((float64(qmean)*float64(nq)-float64(qmean0)*float64(nq0))/float64(max(nq-nq0, 1)))
	t.Logf("UDP receive buffer errors during the flood: %d on the host (/proc/net/snmp), %d on the sidecar's socket (/proc/net/udp)",
		udpRcvbufErrors()-udpBefore, udpSocketDrops(e.udp.Port())-sockBefore)
	t.Logf("sidecar side, its own measure (arrival to routing done): %d INVITEs admitted during the flood, mean %v; max %v since the test began",
		nq, qmean.Round(time.Microsecond), qmax.Round(time.Microsecond))

	completed := float64(r.admitted) / r.elapsed.Seconds()
	p50, p99, worst := r.p(0.5), r.p(0.99), r.p(1)
	t.Logf("flood %d cps x %d s: admitted %d (%.0f/s), refused %d, p50 %.1f ms p99 %.1f ms max %.1f ms; RSS %d -> peak %d KiB; back %v",
		rate, secs, r.admitted, completed, r.refused, p50, p99, worst, rssBefore, hwm, back)
	// SIPp exited 0: each of its calls got a 486 or a 503. (503s are counted per INVITE
	// sent: a retransmission refused again counts twice.)
	if r.admitted > uint64(r.calls) || r.admitted+r.refused < uint64(r.calls) {
		t.Errorf("486 %d, 503 %d for %d calls", r.admitted, r.refused, r.calls)
	}
	if r.refused == 0 {
		t.Errorf("the flood at %d cps refused nothing: the ladder's %d cps was not the sidecar's capacity (a stall of the host)",
			rate, capacity)
	}
	if completed < 0.9*float64(capacity) {
		t.Errorf("completed %.0f calls/s, want at least 90%% of the clean capacity %d", completed, capacity)
	}
	if p99 > 100 {
		t.Errorf("admitted calls' INVITE->486 p99 %.1f ms, want <= 100", p99)
	}
	const rssLimit = 300 << 10
	if hwm > rssLimit {
		t.Errorf("peak RSS %d KiB, want under %d", hwm, rssLimit)
	}
	if back > time.Second {
		t.Errorf("back to normal (OPTIONS 200, a call answered) %v after the flood, want within 1 s", back)
	}
	if t.Failed() {
		return
	}
	reliability.Log(t, reliability.Row{
		Test: "sipsvc TestOverloadQueueDelayFlood",
		Thrown: fmt.Sprintf("SIPp flood of new INVITEs at 3x the clean capacity measured first (%d cps; ladder of %d s steps, shedding off, doubling from 100 cps then halving the gap, the top clean step confirmed by a second run; clean: 0 failed calls, 0 retransmissions, p99 <= %d ms: %s), "+
			"%d/s for %d s (%d calls), default settings (max-cps unset, max-queue-delay %v), loopback; ladder and flood with %s, "+
			"SIPp's socket buffers 4 MiB; during the flood %s",
			capacity, ladderSecs, ladderP99, strings.Join(ladder, "; "), rate, secs, r.calls, defaults.SIP.MaxQueueDelay, pin, r.usage()),
		Did: fmt.Sprintf("completed %d (%.0f/s, %.0f%% of the clean capacity; 486 from the dialplan), INVITE->486 p50 %.1f ms "+
			"p99 %.1f ms (SIPp's clock, 4 ms ticks); refused %d INVITEs sent (retransmissions included) with a stateless 503 + "+
			"Retry-After in the socket filter; peak RSS %d MiB "+
			"(%d MiB before); OPTIONS 200 and a call answered %.2f s after the flood",
			r.admitted, completed, 100*completed/float64(capacity), p50, p99, r.refused, hwm>>10, rssBefore>>10,
			back.Seconds()),
		Lost: "nothing: every call got a final answer (SIPp: 0 failed calls, no timeout)",
	})
}

// ladderTop is the ladder's highest step: past it the sidecar's capacity is more than SIPp
// on one core can flood at 3x.
const ladderTop = 25600

// The ladder's steps: ladderSecs long each, so that a queue building up at a rate past the
// sustainable one shows in the p99 (at 3 s a step at saturation still passed, its queue
// not yet long: p99 68 ms at 3,200 cps, where the flood then completed 2,355/s); ladderP99
// the p99 a clean step stays within (issue 14's clean step), half the flood's bound.
//
// ladderStopQueued is how much a step's run may leave queued in the sidecar's socket before
// it is stopped, unclean (sippFlood): 1 MiB is over a thousand INVITEs (each about 900 bytes
// there, as the kernel counts it), more than 300 ms at the rates it measures, where a clean
// step's p99 is within ladderP99.
//
// An unclean run with the sidecar using less than ladderIdle of its CPU share is a stall of
// the host, not the capacity: run again, at most ladderStalls times in a ladder.
const (
	ladderSecs       = 5
	ladderP99        = 50
	ladderStopQueued = 1 << 20
	ladderIdle       = 0.6
	ladderStalls     = 3
)

// floodLadder measures the sidecar's sustainable clean capacity with ladderSecs SIPp runs,
// shedding off, each step clean or not by one run (floodRun.clean): the rate doubles from
// 100 cps up to the first step that is not clean, then halves the gap between the last
// clean step and the first unclean one until it is within an eighth of the clean one; the
// top clean step is then run once more, and when that run is not clean it becomes the
// unclean bound, the gap down to the next clean step below is halved again, and the new top
// is confirmed (at most 3 confirmation rounds), so one lucky run at the edge of saturation is
// not the capacity, and one unlucky confirmation does not halve it. A step's run is stopped once the sidecar's socket
// queues past ladderStopQueued, and the ladder waits for the sidecar to be idle after an
// unclean run (settleLadder); an unclean run with the sidecar's CPU share mostly unused (a
// stall of the host, not its capacity) is run again (ladderIdle, ladderStalls). It returns the confirmed rate and a summary of the
// steps for the row (the log has each). About 12-20 runs, 1.5-2.5 minutes. SIDECAR_FLOOD_CAPACITY=N
// skips it (an A/B comparison of two builds on a shared host, whose ladder would measure the
// neighbours). The capacity exceeding the ladder's top skips the test: SIPp cannot flood it
// at 3x.
func floodLadder(t *testing.T, e *env, pin floodPin) (capacity int, ladder []string) {
	t.Helper()
	if v := os.Getenv("SIDECAR_FLOOD_CAPACITY"); v != "" {
		c, err := strconv.Atoi(v)
		if err != nil || c <= 0 {
			t.Fatalf("SIDECAR_FLOOD_CAPACITY=%q: want a rate in calls/s", v)
		}
		return c, []string{fmt.Sprintf("%d cps given (SIDECAR_FLOOD_CAPACITY)", c)}
	}
	var cleanSteps []int // every rate a run found clean, ascending once sorted
	var step func(rate int, what string) bool
	stalls := 0
	step = func(rate int, what string) bool {
		r := sippFlood(t, e, pin, rate, ladderSecs, ladderStopQueued)
		if r.admitted == 0 && r.failed {
			// SIPp did not run (its port taken between the probe and its bind, on a host
			// shared with other tests): once more, then it is the test's failure.
			t.Logf("ladder %d cps: SIPp answered nothing, again: %s", rate, tail(r.out, 300))
			if r = sippFlood(t, e, pin, rate, ladderSecs, ladderStopQueued); r.admitted == 0 {
				t.Fatalf("ladder %d cps: SIPp answered nothing twice:\n%s", rate, tail(r.out, 1200))
			}
		}
		ok := r.clean()
		verdict := "clean"
		if !ok {
			verdict = "not clean"
			if r.aborted != "" {
				verdict += ", " + r.aborted
			}
			verdict += "; " + settleLadder(t)
		} else {
			cleanSteps = append(cleanSteps, rate)
		}
		ladder = append(ladder, fmt.Sprintf("%s%d cps: %d/%d answered, %d retransmissions, p99 %.0f ms (%s)", what, rate,
			r.admitted, r.calls, r.retrans, r.p(0.99), verdict))
		t.Logf("ladder %s%d cps: %d/%d answered, p99 %.0f ms, %s; %s", what, rate, r.admitted, r.calls, r.p(0.99), verdict, r.usage())
		// Unclean with the sidecar's CPU share mostly unused: not its capacity but a stall of
		// the host (a neighbour's burst, p99 56 ms at 200 cps), so the step runs again, up to
		// ladderStalls times in a ladder. Near the capacity the share is used, and an unclean
		// run stands.
		if used := r.selfCPU.Seconds() / r.elapsed.Seconds(); !ok && r.aborted == "" && pin.quota > 0 &&
			used < ladderIdle*pin.quota && stalls < ladderStalls {
			stalls++
			t.Logf("ladder %d cps: unclean with the sidecar at %.0f%% of a core, under %.0f%% of its share: a stall, again",
				rate, 100*used, 100*ladderIdle)
			return step(rate, what+"again ")
		}
		return ok
	}
	lo, hi := 0, 0
	for rate := 100; rate <= ladderTop; rate *= 2 {
		if !step(rate, "") {
			hi = rate
			break
		}
		lo = rate
	}
	if lo == 0 {
		t.Fatalf("not clean even at the ladder's first step (%s): the machine is too loaded to measure", ladder[0])
	}
	if hi == 0 {
		t.Skipf("clean up to the ladder's top, %d cps (%s): SIPp on one core cannot flood the sidecar at 3x; "+
			"give it less CPU (SIDECAR_FLOOD_CPU)", lo, pin)
	}
	bisect := func() {
		for hi-lo > lo/8 {
			mid := (lo + hi) / 2 / 10 * 10
			if mid <= lo || mid >= hi {
				break
			}
			if step(mid, "") {
				lo = mid
			} else {
				hi = mid
			}
		}
	}
	bisect()
	// The top clean step once more; when it is not clean again, it is the new unclean
	// bound, and the gap between it and the next clean step below is halved again before
	// the next confirmation (dropping to that step alone measured 1,600 cps on a host where
	// 3,200 was clean once, then p99 56 ms: a flood at 3x an underestimate is not a 3x flood).
	confirmed := false
	for range 3 {
		if step(lo, "confirm ") {
			confirmed = true
			break
		}
		slices.Sort(cleanSteps)
		below := slices.IndexFunc(cleanSteps, func(r int) bool { return r >= lo })
		if below <= 0 {
			break
		}
		hi, lo = lo, cleanSteps[below-1]
		bisect()
	}
	if !confirmed {
		t.Fatalf("no clean step confirmed by a second run (%s): the machine is too loaded to measure", strings.Join(ladder, "; "))
	}
	t.Logf("clean capacity ladder: %s", strings.Join(ladder, "; "))
	return lo, []string{fmt.Sprintf("%d runs, last clean %d cps (confirmed), unclean at %d cps", len(ladder), lo, hi)}
}

// settleLadder waits until the sidecar is idle again after an unclean ladder step, and says how
// long it took: past its capacity it still works through the INVITEs queued in its socket
// and their transactions after SIPp has given up on them, and the next step run before it
// is done measures that backlog (a confirmation at 800 cps right after a 3,600 cps step:
// p99 104 ms). Idle: the test process (the sidecar) used under 2% of a core in 250 ms, then
// a GC; at most 30 s.
func settleLadder(t *testing.T) string {
	t.Helper()
	start := time.Now()
	for time.Since(start) < 30*time.Second {
		c := selfCPU()
		time.Sleep(250 * time.Millisecond)
		if selfCPU()-c < 5*time.Millisecond {
			break
		}
	}
	debug.FreeOSMemory()
	return fmt.Sprintf("settled in %.1f s", time.Since(start).Seconds())
}

// udpRcvbufErrors reads the host's UDP RcvbufErrors (datagrams dropped because a socket's
// receive buffer was full) from /proc/net/snmp (0: unknown).
func udpRcvbufErrors() int {
	b, err := os.ReadFile("/proc/net/snmp")
	if err != nil {
		return 0
	}
	var names []string
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) == 0 || f[0] != "Udp:" {
			continue
		}
		if names == nil {
			names = f
			continue
		}
		for i, n := range names {
			if n == "RcvbufErrors" && i < len(f) {
				v, _ := strconv.Atoi(f[i])
				return v
			}
		}
	}
	return 0
}

// udpSocketDrops reads the drops counter of the IPv4 UDP socket bound to port, through
// sock_diag where it can, from /proc/net/udp otherwise (0: unknown).
func udpSocketDrops(port uint16) int {
	if d, ok := sockDiagUDPDrops(port); ok {
		return d
	}
	return procDrops(port)
}

// procDrops reads the drops counter of the IPv4 UDP socket bound to port from /proc/net/udp
// (0: unknown).
func procDrops(port uint16) int {
	b, err := os.ReadFile("/proc/net/udp")
	if err != nil {
		return 0
	}
	want := fmt.Sprintf(":%04X", port)
	for _, l := range strings.Split(string(b), "\n")[1:] {
		f := strings.Fields(l)
		if len(f) < 13 || !strings.HasSuffix(f[1], want) {
			continue
		}
		v, _ := strconv.Atoi(f[len(f)-1])
		return v
	}
	return 0
}

// cpuTicks reads the busy and total ticks of CPU n from /proc/stat (n < 0: all CPUs; 0, 0:
// unknown). Busy is everything but idle and iowait, whatever process it went to.
func cpuTicks(n int) (busy, total int64) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0
	}
	name := "cpu"
	if n >= 0 {
		name += strconv.Itoa(n)
	}
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) < 6 || f[0] != name {
			continue
		}
		for i, v := range f[1:] {
			x, _ := strconv.ParseInt(v, 10, 64)
			total += x
			if i != 3 && i != 4 { // idle, iowait
				busy += x
			}
		}
		return busy, total
	}
	return 0, 0
}

// busyShare is busy/total, 0 when nothing was measured.
func busyShare(busy, total int64) float64 {
	if total <= 0 {
		return 0
	}
	return float64(busy) / float64(total)
}

// sippStatTotals reads the cumulative retransmissions and timed-out calls from the last line
// of SIPp's -trace_stat file (one line a second), and the rate it created its calls at: the
// calls created by its last line with fewer than calls created, over that line's time since
// the start (0: unknown, SIPp created all of them within its first second).
func sippStatTotals(file string, calls int) (retrans, timeouts int, sent float64) {
	b, err := os.ReadFile(file)
	if err != nil {
		return 0, 0, 0
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) < 2 {
		return 0, 0, 0
	}
	head := strings.Split(lines[0], ";")
	col := func(f []string, name string) string {
		for i, h := range head {
			if strings.TrimSpace(h) == name && i < len(f) {
				return strings.TrimSpace(f[i])
			}
		}
		return ""
	}
	// StartTime and CurrentTime are "date<TAB>time<TAB>unix seconds".
	epoch := func(f []string, name string) float64 {
		v := strings.Fields(col(f, name))
		if len(v) < 3 {
			return 0
		}
		x, _ := strconv.ParseFloat(v[2], 64)
		return x
	}
	for _, l := range lines[1:] {
		f := strings.Split(l, ";")
		created, _ := strconv.Atoi(col(f, "TotalCallCreated"))
		if created >= calls {
			break
		}
		if d := epoch(f, "CurrentTime") - epoch(f, "StartTime"); d > 0.5 && created > 0 {
			sent = float64(created) / d
		}
	}
	last := strings.Split(lines[len(lines)-1], ";")
	retrans, _ = strconv.Atoi(col(last, "Retransmissions(C)"))
	for _, name := range []string{"FailedTimeoutOnRecv(C)", "FailedMaxUDPRetrans(C)"} {
		v, _ := strconv.Atoi(col(last, name))
		timeouts += v
	}
	return retrans, timeouts, sent
}
