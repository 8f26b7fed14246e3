package rtp

import (
	"fmt"
	"net/netip"
	"time"
)

// Config is the media plane's configuration, the [rtp] section of sidecar.ini.
type Config struct {
	// PortMin and PortMax bound the UDP ports used: RTP on even ports, RTCP on the next port.
	// On Linux every pair used once stays bound until Engine.Close: up to two file
	// descriptors per pair of the range.
	PortMin, PortMax int
	// Address is the media address advertised in SDP (c= line). When invalid, Bind is used.
	Address netip.Addr
	// Bind is the local address the sockets bind to. When invalid, Address is used.
	Bind netip.Addr
	// Symmetric latches the destination of a session's RTP (and RTCP) to the source of the
	// peer's packets, for peers behind NAT: at once for the SDP's IP address, after a short
	// run of packets in sequence for another source (docs/media.md); packets from other
	// sources are then dropped.
	Symmetric bool
	// Timeout ends a session (Session.Done) when no RTP arrives for that long; 0 disables it.
	// Calls on hold are exempt, and so is a late-offer session until the answer to its offer
	// fails (while the call rings or awaits its ACK no RTP is due).
	Timeout time.Duration
	// Sounds is the operator's sounds directory; the media plane itself does not read it.
	Sounds string
}

// DefaultConfig returns the configuration of an unconfigured sidecar: loopback, ports
// 20000-29999, symmetric RTP, a 30 s inactivity timeout (as config.Default).
func DefaultConfig() Config {
	lo := netip.MustParseAddr("127.0.0.1")
	return Config{PortMin: 20000, PortMax: 29999, Address: lo, Bind: lo, Symmetric: true, Timeout: 30 * time.Second}
}

func (c *Config) normalize() error {
	if !c.Address.IsValid() && !c.Bind.IsValid() {
		return fmt.Errorf("%w: neither address nor bind is set", ErrConfig)
	}
	if !c.Address.IsValid() || c.Address.IsUnspecified() {
		if !c.Bind.IsValid() || c.Bind.IsUnspecified() {
			return fmt.Errorf("%w: bind %s is unspecified, set address to the IP peers reach", ErrConfig, c.Bind)
		}
		c.Address = c.Bind
	}
	if !c.Bind.IsValid() {
		c.Bind = c.Address
	}
	if c.PortMin < 1024 || c.PortMax > 65535 || c.PortMin > c.PortMax {
		return fmt.Errorf("%w: ports %d-%d: want 1024 <= min <= max <= 65535", ErrConfig, c.PortMin, c.PortMax)
	}
	first := c.PortMin + c.PortMin%2
	if first+1 > c.PortMax {
		return fmt.Errorf("%w: ports %d-%d hold no even/odd pair", ErrConfig, c.PortMin, c.PortMax)
	}
	if c.Timeout < 0 {
		return fmt.Errorf("%w: negative timeout %s", ErrConfig, c.Timeout)
	}
	return nil
}
