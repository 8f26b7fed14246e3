package sipsvc

import (
	"net/netip"
	"sync/atomic"

	"github.com/sidecar-voip/sidecar/config"
)

// testGate is a trust gate over fixed settings.
func testGate(trusted config.TrustList, reject bool, refuse func(netip.AddrPort, string)) *trustGate {
	p := &atomic.Pointer[liveSettings]{}
	p.Store(&liveSettings{trusted: trusted, reject: reject, untrusted: map[bool]string{true: "reject", false: "drop"}[reject]})
	return &trustGate{settings: p, refuse: refuse}
}
