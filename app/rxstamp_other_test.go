//go:build !linux

package app_test

import (
	"net"
	"time"
)

// enableRxStamps: no arrival stamps off Linux; reads are timed when they return.
func enableRxStamps(*net.UDPConn) {}

// rxStamp: no arrival stamps off Linux.
func rxStamp([]byte) (time.Time, bool) { return time.Time{}, false }
