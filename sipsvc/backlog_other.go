//go:build !linux || 386

package sipsvc

import "net"

// backlogGauge reads nothing here: the receive queue is read on 64-bit Linux only, and the
// queue delay's other rules shed without it.
type backlogGauge struct{}

func newBacklogGauge(*net.UDPConn) *backlogGauge { return nil }

// read reports 0 (unknown).
func (*backlogGauge) read() float64 { return 0 }

// next does nothing.
func (*backlogGauge) next() {}
