package e2e

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// requireE2E skips the test unless SIDECAR_E2E is set, and fails it when a tool the suite
// needs is missing.
func requireE2E(t *testing.T) {
	t.Helper()
	if os.Getenv("SIDECAR_E2E") == "" {
		t.Skip("end-to-end suite: set SIDECAR_E2E=1 (make e2e) to run it")
	}
	for _, tool := range []string{"kamailio", "kamcmd", "sipp"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("SIDECAR_E2E is set but %s is not installed (.ci/run installs it): %v", tool, err)
		}
	}
}

// repoRoot returns the repository root (the parent of this package's folder).
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatalf("find repository root: %v", err)
	}
	return root
}

// newRunDir makes the folder that holds one test's configuration, sockets and logs. Its
// sidecar logs are scanned for the suite's PINs (checkLogsForPINs), then it is removed when
// the test passes and kept, with the tail of every log printed, when it fails.
// Register it before starting processes: cleanups run last-in first-out, so the processes are
// stopped before the logs are read.
func newRunDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "sidecar-e2e-")
	if err != nil {
		t.Fatalf("make run folder: %v", err)
	}
	t.Cleanup(func() {
		checkLogsForPINs(t, dir)
		if !t.Failed() {
			os.RemoveAll(dir)
			return
		}
		logs, _ := filepath.Glob(filepath.Join(dir, "*.log"))
		for _, l := range logs {
			t.Logf("--- tail of %s\n%s", l, tail(l, 40))
		}
		t.Logf("logs kept in %s", dir)
	})
	return dir
}

// tail returns the last n lines of a file.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// proc is one process the suite started; it is stopped by pid.
type proc struct {
	name string
	cmd  *exec.Cmd
	log  string
	done chan struct{}
	err  error // exit status, valid once done is closed
}

// startProc starts argv with stdout and stderr in dir/name.log, in its own process group, and
// stops it when the test ends.
func startProc(t *testing.T, dir, name string, argv ...string) *proc {
	t.Helper()
	logPath := filepath.Join(dir, name+".log")
	f, err := os.Create(logPath)
	if err != nil {
		t.Fatalf("create %s: %v", logPath, err)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Stdout = f
	cmd.Stderr = f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	fmt.Fprintf(f, "# %s\n", strings.Join(argv, " "))
	if err := cmd.Start(); err != nil {
		f.Close()
		t.Fatalf("start %s: %v", name, err)
	}
	p := &proc{name: name, cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		f.Close()
		close(p.done)
	}()
	t.Cleanup(func() { p.stop(t) })
	return p
}

// running reports whether the process is still alive.
func (p *proc) running() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// signal sends sig to the process.
func (p *proc) signal(sig syscall.Signal) error {
	if !p.running() {
		return errors.New("process exited")
	}
	return p.cmd.Process.Signal(sig)
}

// stop sends SIGTERM to the process and, if it is still alive after 5 s, SIGKILL to its
// process group (kamailio's children included). It returns once the process is reaped. Once
// the process is gone, whatever is left of its group gets SIGKILL too: a test that killed
// kamailio's main process with kill -9 leaves its children running otherwise.
func (p *proc) stop(t *testing.T) {
	defer p.killGroup()
	if !p.running() {
		return
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return
	case <-time.After(5 * time.Second):
	}
	t.Logf("%s (pid %d) ignored SIGTERM for 5 s: killing it", p.name, p.cmd.Process.Pid)
	syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		t.Errorf("%s (pid %d) survived SIGKILL", p.name, p.cmd.Process.Pid)
	}
}

// killGroup sends SIGKILL to what is left of the process's group once the process itself
// has exited (the group is the one startProc created, its id the process's PID).
func (p *proc) killGroup() {
	if !p.running() {
		syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL) // ESRCH when nothing is left
	}
}

// wait waits up to d for the process to exit; it reports whether it did, and its exit error.
func (p *proc) wait(d time.Duration) (exited bool, err error) {
	select {
	case <-p.done:
		return true, p.err
	case <-time.After(d):
		return false, nil
	}
}

// freePort returns a port that is free for both UDP and TCP on ip.
func freePort(t *testing.T, ip string) int {
	t.Helper()
	for i := 0; i < 50; i++ {
		uc, err := net.ListenPacket("udp", net.JoinHostPort(ip, "0"))
		if err != nil {
			t.Fatalf("probe a free UDP port on %s: %v", ip, err)
		}
		port := uc.LocalAddr().(*net.UDPAddr).Port
		tl, err := net.Listen("tcp", net.JoinHostPort(ip, fmt.Sprint(port)))
		uc.Close()
		if err != nil {
			continue
		}
		tl.Close()
		return port
	}
	t.Fatalf("no port free for both UDP and TCP on %s", ip)
	return 0
}

// freePortPair returns an even UDP port p with p+1, p+2 and p+3 free too: RTP and RTCP,
// and the video pair SIPp binds beside the audio one (-mp).
func freePortPair(t *testing.T, ip string) int {
	t.Helper()
	for i := 0; i < 100; i++ {
		p := freePort(t, ip)
		if p%2 == 1 || p > 65000 {
			continue
		}
		free := true
		for q := p + 1; q <= p+3 && free; q++ {
			c, err := net.ListenPacket("udp", net.JoinHostPort(ip, fmt.Sprint(q)))
			if err != nil {
				free = false
				continue
			}
			c.Close()
		}
		if free {
			return p
		}
	}
	t.Fatalf("no free RTP port pair on %s", ip)
	return 0
}

// eventually polls cond every 100 ms until it returns nil or d has passed, and returns the
// last error.
func eventually(d time.Duration, cond func() error) error {
	deadline := time.Now().Add(d)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		err := cond()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		<-tick.C
	}
}

// runCmd runs a short command and returns its combined output.
func runCmd(name string, args ...string) (string, error) {
	var out bytes.Buffer
	cmd := exec.Command(name, args...)
	cmd.Stdout = &out
	cmd.Stderr = &out
	err := cmd.Run()
	return out.String(), err
}
