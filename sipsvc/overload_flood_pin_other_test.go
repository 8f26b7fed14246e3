//go:build !linux

package sipsvc_test

import (
	"testing"
	"time"
)

// floodPin: no pinning off Linux (see overload_flood_pin_linux_test.go).
type floodPin struct{}

func pinFlood(t *testing.T) floodPin { t.Log("no pinning: not Linux"); return floodPin{} }

func (floodPin) command(bin string, args ...string) (string, []string) { return bin, args }

func (floodPin) String() string { return "unpinned" }

// selfCPU: unknown off Linux.
func selfCPU() time.Duration { return 0 }

// sockDiagUDPDrops: unknown off Linux (udpSocketDrops reads /proc/net/udp).
func sockDiagUDPDrops(port uint16) (int, bool) { return 0, false }
