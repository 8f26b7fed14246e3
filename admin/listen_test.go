package admin_test

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/sidecar-voip/sidecar/admin"
	"github.com/sidecar-voip/sidecar/config"
)

// Listen binds loopback addresses and refuses any other without allow-remote, even though
// config.Validate refuses them first.
func TestListen(t *testing.T) {
	for _, tc := range []struct {
		listen string
		remote bool
		want   error  // a sentinel, or nil
		msg    string // a substring of the error, or "" for success
	}{
		{"127.0.0.1:0", false, nil, ""},
		{"127.0.0.2:0", false, nil, ""},
		{"[::ffff:127.0.0.1]:0", false, nil, ""},
		{"0.0.0.0:0", false, admin.ErrRemote, "listen admin 0.0.0.0:0: not a loopback address; set [admin] allow-remote = yes"},
		{"[::]:0", false, admin.ErrRemote, "listen admin [::]:0: not a loopback address"},
		{"192.0.2.1:8080", false, admin.ErrRemote, "listen admin 192.0.2.1:8080: not a loopback address"},
		{"[2001:db8::1]:8080", false, admin.ErrRemote, "not a loopback address"},
		// allow-remote and a token let the address through the checks; this one is not on
		// the host.
		{"192.0.2.1:0", true, nil, "listen admin: listen tcp 192.0.2.1:0"},
		// allow-remote without a token is refused.
		{"192.0.2.2:0", true, admin.ErrNoToken, "listen admin 192.0.2.2:0: not a loopback address; set [admin] token"},
		{"", false, admin.ErrDisabled, "admin endpoint disabled"},
	} {
		t.Run(tc.listen, func(t *testing.T) {
			cfg := config.Admin{AllowRemote: tc.remote}
			if tc.listen == "192.0.2.1:0" {
				cfg.Token = "0123456789abcdef"
			}
			if tc.listen != "" {
				cfg.Listen = netip.MustParseAddrPort(tc.listen)
			}
			ln, err := admin.Listen(cfg)
			if err == nil {
				defer ln.Close()
			}
			switch {
			case tc.msg == "" && err != nil:
				t.Fatalf("Listen: %v", err)
			case tc.msg != "" && (err == nil || !strings.Contains(err.Error(), tc.msg)):
				t.Fatalf("Listen: error %v, want one containing %q", err, tc.msg)
			case tc.want != nil && !errors.Is(err, tc.want):
				t.Fatalf("Listen: %v is not %v", err, tc.want)
			case tc.remote && errors.Is(err, admin.ErrRemote):
				t.Fatalf("Listen with allow-remote: %v", err)
			}
			if err == nil && !netip.MustParseAddrPort(ln.Addr().String()).Addr().Unmap().IsLoopback() {
				t.Errorf("bound %s", ln.Addr())
			}
		})
	}
}

// remoteAddr reports a documentation address in place of the real loopback one: it lets
// the test hand Serve a listener that claims to be remote without binding a public address.
type remoteAddr struct{ net.Listener }

func (remoteAddr) Addr() net.Addr {
	return net.TCPAddrFromAddrPort(netip.MustParseAddrPort("192.0.2.1:8080"))
}

// Serve refuses (and closes) a listener that is not on loopback unless AllowRemote is set.
func TestServeRefusesRemote(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	err = admin.New(admin.Options{}).Serve(context.Background(), remoteAddr{ln})
	if !errors.Is(err, admin.ErrRemote) || !strings.Contains(err.Error(), "serve admin 192.0.2.1:8080") {
		t.Fatalf("Serve: %v, want ErrRemote naming the address", err)
	}
	if _, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second); err == nil {
		t.Error("the refused listener still accepts connections")
	}

	// With AllowRemote the same listener is served until the context ends.
	ln2, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- admin.New(admin.Options{AllowRemote: true}).Serve(ctx, remoteAddr{ln2}) }()
	if r := do(t, "GET", "http://"+ln2.Addr().String()+"/healthz"); r.code != 200 {
		t.Errorf("allow-remote /healthz: %d", r.code)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Serve after cancel: %v", err)
	}
}

// Serve returns nil soon after its context ends, even with a keep-alive connection open,
// and the port is closed afterwards.
func TestServeStops(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- admin.New(admin.Options{}).Serve(ctx, ln) }()
	// An idle keep-alive connection, and one that never finishes its headers.
	do(t, "GET", "http://"+addr+"/healthz")
	slow, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	slow.Write([]byte("GET /healthz HTTP/1.1\r\nHost: x\r\n"))
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve still running 10s after its context ended")
	}
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Error("port still open after Serve returned")
	}
}

// Serve reports a listener that fails before the context ends.
func TestServeListenerClosed(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln.Close()
	err = admin.New(admin.Options{}).Serve(context.Background(), ln)
	if err == nil || !strings.Contains(err.Error(), "serve admin:") {
		t.Fatalf("Serve on a closed listener: %v", err)
	}
}
