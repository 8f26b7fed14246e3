package sip

// sidecar patch tests: allocations on the per-request server path (see PATCHED.md).

import (
	"context"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"
)

// makeServerTxKey runs for every request received; it builds its key with one allocation.
func TestServerTxKeyOneAllocation(t *testing.T) {
	req := testCreateRequest(t, "INVITE", "sip:bob@127.0.0.1:5060", "UDP", "127.0.0.2:5066")
	want, err := makeServerTxKey(req, "")
	if err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, func() {
		if key, _ := makeServerTxKey(req, ""); key != want {
			t.Fatalf("key %q, want %q", key, want)
		}
	}); n > 1 {
		t.Errorf("makeServerTxKey: %.0f allocations per key, want 1", n)
	}
}

// A UDP request whose connection is found by its source needs no timeout context (a timer
// and its closures per request): serverRequestConnection allocates only what it parses from
// the source and Via (2; with the context it was 6).
func TestServerRequestConnectionUDPFastPathAllocations(t *testing.T) {
	ln, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	tp := NewTransportLayer(net.DefaultResolver, NewParser(), nil)
	defer tp.Close()
	src := ln.LocalAddr().String()
	conn, err := tp.udp.CreateConnection(context.Background(), Addr{IP: net.IPv4(127, 0, 0, 1)},
		Addr{IP: net.IPv4(127, 0, 0, 1), Port: ln.LocalAddr().(*net.UDPAddr).Port}, tp.handleMessage)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	req := testCreateRequest(t, "INVITE", "sip:bob@127.0.0.1:5060", "UDP", src)
	req.SetSource(src)
	if c, err := tp.serverRequestConnection(time.Second, req); err != nil || c == nil {
		t.Fatalf("no connection for %s: %v", src, err)
	}
	n := testing.AllocsPerRun(100, func() {
		c, err := tp.serverRequestConnection(time.Second, req)
		if err != nil || c == nil {
			t.Fatalf("no connection for %s: %v", src, err)
		}
	})
	t.Logf("%.0f allocations", n)
	// sidecar patch (sourceIP): 0; 1 with the source IP parsed per request.
	if n > 0 {
		t.Errorf("serverRequestConnection (UDP, known source): %.0f allocations, want 0", n)
	}
	// sourceIP parses each host, whichever came before.
	for _, host := range []string{"127.0.0.3", "::1", "127.0.0.3", "127.0.0.1", "not-an-ip", "127.0.0.1"} {
		if got, want := tp.sourceIP(host), net.ParseIP(host); !got.Equal(want) || (got == nil) != (want == nil) {
			t.Errorf("sourceIP(%q) = %v, want %v", host, got, want)
		}
	}
}

// A server transaction's Debug lines cost nothing when the logger is above Debug: Terminate
// on a transaction allocates nothing (upstream boxed its key for each line it did not write).
func TestServerTxDebugOffNoAllocation(t *testing.T) {
	req := testCreateRequest(t, "OPTIONS", "sip:bob@127.0.0.1:5060", "UDP", "127.0.0.2:5066")
	key, err := makeServerTxKey(req, "")
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo}))
	tx := NewServerTx(key, req, nil, log)
	if err := tx.Init(); err != nil {
		t.Fatal(err)
	}
	tx.Terminate()
	if n := testing.AllocsPerRun(100, tx.Terminate); n != 0 {
		t.Errorf("Terminate with Debug off: %.0f allocations, want 0", n)
	}
}
