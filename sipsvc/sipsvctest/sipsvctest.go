// Package sipsvctest starts real SIP services on loopback for tests: Start serves a
// sipsvc.Server on free ports and drains it when the test ends. It also holds Media, a test
// double of the media plane for tests whose subject is signalling (the real plane is package
// rtp's), and Log, a concurrency-safe log buffer.
package sipsvctest

import (
	"bytes"
	"context"
	"log/slog"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/sidecar-voip/sidecar/config"
	"github.com/sidecar-voip/sidecar/sipsvc"
)

// Config returns config.Default() made for tests: udp and tcp on 127.0.0.1 port 0, a 2 s
// drain grace and a 2 s ACK timeout.
func Config() *config.Config {
	cfg := config.Default()
	lo := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), 0)
	cfg.SIP.Listen = []config.Listen{{Transport: "udp", Addr: lo}, {Transport: "tcp", Addr: lo}}
	cfg.SIP.DrainGrace = 2 * time.Second
	cfg.SIP.ACKTimeout = 2 * time.Second
	return cfg
}

// Start creates a server from opts (Config() when opts.Config is nil), serves it, and waits
// until every listener is bound. At the end of the test the server is drained and Serve's
// result checked.
func Start(t testing.TB, opts sipsvc.Options) *sipsvc.Server {
	t.Helper()
	if opts.Config == nil {
		opts.Config = Config()
	}
	srv, err := sipsvc.New(opts)
	if err != nil {
		t.Fatalf("sipsvc.New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	select {
	case <-srv.Ready():
	case err := <-done:
		cancel()
		t.Fatalf("Serve: %v", err)
	case <-time.After(10 * time.Second):
		cancel()
		t.Fatal("server not ready after 10s")
	}
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve returned %v", err)
			}
		case <-time.After(opts.Config.SIP.DrainGrace + 15*time.Second):
			t.Error("Serve did not return after drain")
		}
	})
	return srv
}

// Addr returns the bound address of srv's first listener on transport; the test fails if
// there is none.
func Addr(t testing.TB, srv *sipsvc.Server, transport string) netip.AddrPort {
	t.Helper()
	for _, l := range srv.Addrs() {
		if l.Transport == transport {
			return l.Addr
		}
	}
	t.Fatalf("no %s listener in %v", transport, srv.Addrs())
	return netip.AddrPort{}
}

// Log is a concurrency-safe buffer for a test's logs.
type Log struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// NewLog returns a debug-level text logger writing to a new Log.
func NewLog() (*slog.Logger, *Log) {
	l := &Log{}
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug})), l
}

// Write appends p.
func (l *Log) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// String returns everything logged so far.
func (l *Log) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}
