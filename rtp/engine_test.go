package rtp_test

import (
	"net/netip"
	"testing"
	"time"

	"github.com/sidecar-voip/sidecar/rtp"
)

func TestNewEngineValidates(t *testing.T) {
	lo := netip.MustParseAddr("127.0.0.1")
	any4 := netip.MustParseAddr("0.0.0.0")
	for _, tc := range []struct {
		name string
		cfg  rtp.Config
		ok   bool
	}{
		{"default", rtp.DefaultConfig(), true},
		{"wildcard bind with address", rtp.Config{PortMin: 20000, PortMax: 20001, Address: lo, Bind: any4}, true},
		{"wildcard only", rtp.Config{PortMin: 20000, PortMax: 20001, Bind: any4}, false},
		{"no address", rtp.Config{PortMin: 20000, PortMax: 20001}, false},
		{"reversed ports", rtp.Config{PortMin: 30000, PortMax: 20000, Address: lo}, false},
		{"privileged ports", rtp.Config{PortMin: 100, PortMax: 2000, Address: lo}, false},
		{"no pair", rtp.Config{PortMin: 20001, PortMax: 20002, Address: lo}, false},
		{"negative timeout", rtp.Config{PortMin: 20000, PortMax: 20001, Address: lo, Timeout: -time.Second}, false},
	} {
		e, err := rtp.NewEngine(tc.cfg, nil)
		if (err == nil) != tc.ok {
			t.Errorf("%s: err %v", tc.name, err)
		}
		if e != nil {
			e.Close()
		}
	}
}
