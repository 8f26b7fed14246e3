// Package pgtest starts a real PostgreSQL server for tests: initdb into a temporary directory
// owned by the postgres user (initdb and postgres refuse to run as root; as root they run
// through runuser), a free TCP port on 127.0.0.1, its unix socket in the data directory's
// parent, and a stop by the postmaster's PID at cleanup. Without the binaries a test skips,
// or fails under SIDECAR_E2E=1 (make test), where PostgreSQL is a required peer.
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// BinDir is where Debian's postgresql-15 package puts the server binaries.
const BinDir = "/usr/lib/postgresql/15/bin"

// Options tune a server.
type Options struct {
	// Durable keeps fsync and synchronous commit on (benchmarks); tests run faster without.
	Durable bool
}

// Server is a running (or stopped) PostgreSQL cluster of one test.
type Server struct {
	Port    int
	Dir     string // the cluster's data directory
	SockDir string // the unix socket directory
	root    string
	opts    Options
	cmd     *exec.Cmd
	waited  chan struct{}
	asUser  bool // run through runuser -u postgres
	pid     int
	dbs     atomic.Int64
}

// Start initialises and starts a server for the test; it is stopped and removed at cleanup.
func Start(t testing.TB) *Server { return StartWith(t, Options{}) }

// StartWith is Start with options.
func StartWith(t testing.TB, opts Options) *Server {
	t.Helper()
	if _, err := os.Stat(filepath.Join(BinDir, "postgres")); err != nil {
		if os.Getenv("SIDECAR_E2E") == "1" {
			t.Fatalf("PostgreSQL is required under SIDECAR_E2E=1 (package postgresql): %v", err)
		}
		t.Skipf("PostgreSQL not installed (%v); SIDECAR_E2E=1 makes this a failure", err)
	}
	root, err := os.MkdirTemp("", "pgtest-")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{root: root, Dir: filepath.Join(root, "data"), SockDir: root, opts: opts, asUser: os.Geteuid() == 0}
	t.Cleanup(func() {
		s.Stop(t)
		os.RemoveAll(root)
	})
	if s.asUser {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("start postgres as root: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(root, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	out, err := s.command(filepath.Join(BinDir, "initdb"), "-D", s.Dir, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync", "--locale=C").CombinedOutput()
	if err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	s.Port = freePort(t)
	s.Start(t)
	return s
}

// command runs a PostgreSQL binary as the postgres user when this process is root.
func (s *Server) command(bin string, args ...string) *exec.Cmd {
	if s.asUser {
		return exec.Command("runuser", append([]string{"-u", "postgres", "--", bin}, args...)...)
	}
	return exec.Command(bin, args...)
}

func freePort(t testing.TB) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Start starts a stopped server again on the same port and data, and waits until it accepts
// connections.
func (s *Server) Start(t testing.TB) {
	t.Helper()
	if s.cmd != nil {
		t.Fatal("pgtest: server already running")
	}
	args := []string{"-D", s.Dir, "-p", strconv.Itoa(s.Port), "-k", s.SockDir,
		"-c", "listen_addresses=127.0.0.1", "-c", "max_connections=200", "-c", "log_min_messages=fatal"}
	if !s.opts.Durable {
		args = append(args, "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	}
	cmd := s.command(filepath.Join(BinDir, "postgres"), args...)
	log, err := os.Create(filepath.Join(s.root, "postgres.log"))
	if err == nil {
		cmd.Stdout, cmd.Stderr = log, log
		defer log.Close()
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start postgres: %v", err)
	}
	s.cmd, s.waited = cmd, make(chan struct{})
	go func() { cmd.Wait(); close(s.waited) }()
	deadline := time.Now().Add(60 * time.Second)
	for {
		if pid, ready := s.postmaster(); ready {
			s.pid = pid
			break
		}
		select {
		case <-s.waited:
			b, _ := os.ReadFile(filepath.Join(s.root, "postgres.log"))
			s.cmd = nil
			t.Fatalf("postgres exited at start: %s", b)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("postgres not ready within 60 s")
		}
	}
	// Ready in postmaster.pid means it accepts connections; one connection proves it.
	c, err := pgx.Connect(context.Background(), s.URL("postgres"))
	if err != nil {
		t.Fatalf("connect to the test server: %v", err)
	}
	c.Close(context.Background())
}

// postmaster reads postmaster.pid: the server's PID and whether its status line says ready.
func (s *Server) postmaster() (pid int, ready bool) {
	b, err := os.ReadFile(filepath.Join(s.Dir, "postmaster.pid"))
	if err != nil {
		return 0, false
	}
	lines := strings.Split(string(b), "\n")
	if len(lines) < 8 {
		return 0, false
	}
	pid, err = strconv.Atoi(strings.TrimSpace(lines[0]))
	return pid, err == nil && strings.TrimSpace(lines[7]) == "ready"
}

// Stop stops the server (fast shutdown: SIGINT to the postmaster's PID) and waits for it.
// Stopping a stopped server does nothing.
func (s *Server) Stop(t testing.TB) {
	t.Helper()
	if s.cmd == nil {
		return
	}
	pid := s.pid
	if pid == 0 {
		pid, _ = s.postmaster()
	}
	if pid > 0 {
		if err := syscall.Kill(pid, syscall.SIGINT); err != nil && !errors.Is(err, syscall.ESRCH) {
			t.Errorf("stop postgres %d: %v", pid, err)
		}
	}
	select {
	case <-s.waited:
	case <-time.After(30 * time.Second):
		if pid > 0 {
			syscall.Kill(pid, syscall.SIGKILL)
		}
		<-s.waited
	}
	s.cmd, s.pid = nil, 0
}

// PID is the postmaster's process ID (0 when stopped).
func (s *Server) PID() int { return s.pid }

// URL is a connection URL for database db over TCP.
func (s *Server) URL(db string) string {
	u := url.URL{Scheme: "postgres", User: url.User("postgres"), Host: fmt.Sprintf("127.0.0.1:%d", s.Port), Path: "/" + db, RawQuery: "sslmode=disable"}
	return u.String()
}

// NewDatabase creates an empty database and returns its URL: tests sharing a server stay
// apart.
func (s *Server) NewDatabase(t testing.TB) string {
	t.Helper()
	name := fmt.Sprintf("t%d", s.dbs.Add(1))
	ctx := context.Background()
	c, err := pgx.Connect(ctx, s.URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database: %v", err)
	}
	return s.URL(name)
}
