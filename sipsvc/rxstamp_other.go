//go:build !linux

package sipsvc

import (
	"net"
	"time"
)

// rxStampSpace is the control buffer a read is given: none here.
const rxStampSpace = 0

// enableRxStamps does nothing: receive timestamps are read on Linux only.
func enableRxStamps(*net.UDPConn) {}

// rxStamp reports no timestamp: the read time is used.
func rxStamp([]byte) (time.Time, bool) { return time.Time{}, false }

// msgTrunc is 0: the truncation flag is read on Linux only (a truncated datagram then fails
// the framing check or sipgo's parse).
const msgTrunc = 0
