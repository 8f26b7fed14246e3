//go:build !linux

package sipsvc_test

import (
	"errors"
	"testing"
	"time"
)

// floodPin: no pinning off Linux (see overload_flood_pin_linux_test.go).
type floodPin struct{}

func pinFlood(t *testing.T) floodPin { t.Log("no pinning: not Linux"); return floodPin{} }

func (floodPin) command(bin string, args ...string) (string, []string) { return bin, args }

func (floodPin) String() string { return "unpinned" }

// limitCPU: no cgroups off Linux.
func (*floodPin) limitCPU(t *testing.T, share float64) error {
	return errors.New("limit CPU: no cgroups off Linux")
}

// throttled: no quota off Linux.
func (floodPin) throttled() (int, time.Duration) { return 0, 0 }

// selfCPU: unknown off Linux.
func selfCPU() time.Duration { return 0 }

// sockDiagUDPDrops: unknown off Linux (udpSocketDrops reads /proc/net/udp).
func sockDiagUDPDrops(port uint16) (int, bool) { return 0, false }

// udpMem: a UDP socket's drops and receive queue (see overload_flood_pin_linux_test.go).
type udpMem struct{ drops, queued int }

// sockDiagUDP: unknown off Linux.
func sockDiagUDP(port uint16) (udpMem, bool) { return udpMem{}, false }
