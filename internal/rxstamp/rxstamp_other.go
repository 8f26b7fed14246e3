//go:build !linux

package rxstamp

import (
	"net"
	"time"
)

// Space is the control buffer a read is given: none here.
const Space = 0

// Enable does nothing: receive timestamps are read on Linux only.
func Enable(*net.UDPConn) {}

// Parse reports no timestamp: the read time is used.
func Parse([]byte) (time.Time, bool) { return time.Time{}, false }
