package sip

import (
	"context"
	"net"
	"net/netip"
	"strconv"
)

var (

	// TransportIdleConnection will keep connections idle even after transaction terminate
	// -1 	- single response or request will close
	// 0 	- close connection immediatelly after transaction terminate
	// 1 	- keep connection idle after transaction termination
	TransportIdleConnection int = 1

	// TransportBufferReadSize sets this buffer size to use on reading SIP messages.
	TransportBufferReadSize uint16 = 32768
)

const (
	DefaultProtocol = "UDP"

	DefaultUdpPort int = 5060
	DefaultTcpPort int = 5060
	DefaultTlsPort int = 5061
	DefaultWsPort  int = 80
	DefaultWssPort int = 443
)

// Protocol implements network specific features.
type transport interface {
	// GetConnection returns connection from transport
	// addr must be resolved to IP:port
	GetConnection(addr string) Connection
	CreateConnection(ctx context.Context, laddr Addr, raddr Addr, handler MessageHandler) (Connection, error)
	Close() error
}

// TransportReadProps describes the transport read connection properties
type TransportReadProps struct {
	Transport  string
	LocalAddr  net.Addr
	RemoteAddr net.Addr
}

// TransportReadFilter can inspect or replace raw bytes before SIP parsing.
type TransportReadFilter func(info TransportReadProps, data []byte) ([]byte, error)

// DefaultPort returns transport default port by network.
func DefaultPort(transport string) int {
	switch ASCIIToLower(transport) {
	case "tls":
		return DefaultTlsPort
	case "tcp":
		return DefaultTcpPort
	case "udp":
		return DefaultUdpPort
	case "ws":
		return DefaultWsPort
	case "wss":
		return DefaultWssPort
	default:
		return DefaultTcpPort
	}
}

type Addr struct {
	IP       net.IP // Must be in IP format
	Port     int
	Hostname string // Original hostname before resolved to IP
	Zone     string
}

func (a *Addr) String() string {
	if a.IP == nil {
		return net.JoinHostPort(a.Hostname, strconv.Itoa(a.Port))
	}

	if s, ok := ipPortString(a.IP, "", a.Port); ok {
		return s
	}
	return net.JoinHostPort(a.IP.String(), strconv.Itoa(a.Port))
}

// raddrString is req.raddr.String() (raddr.IP set), returning the request's source string
// itself when that is the same text (sidecar patch): a response going back to where its
// request came from (a UDP request whose Via port is its source port, or with rport) no
// longer formats the address again, an allocation per response.
func (req *Request) raddrString() string {
	if src := req.MessageData.Source(); src != "" && len(src) <= 64 {
		if a, ok := netip.AddrFromSlice(req.raddr.IP); ok && req.raddr.Port >= 0 && req.raddr.Port <= 65535 {
			var buf [64]byte
			// What ipPortString (through Addr.String) would make of raddr.
			if b := netip.AddrPortFrom(a.Unmap(), uint16(req.raddr.Port)).AppendTo(buf[:0]); string(b) == src {
				return src
			}
		}
	}
	return req.raddr.String()
}

// ipPortString is net.JoinHostPort(ip.String() (with "%"+zone when zone is set),
// strconv.Itoa(port)) in one allocation instead of three (sidecar patch: formatted for every
// received datagram and every response's destination); ok false for what it does not
// format the same way (an IP that is not 4 or 16 bytes, a port out of range).
func ipPortString(ip net.IP, zone string, port int) (string, bool) {
	a, ok := netip.AddrFromSlice(ip)
	if !ok || port < 0 || port > 65535 {
		return "", false
	}
	a = a.Unmap() // net.IP prints an IPv4-mapped address as IPv4
	if zone != "" {
		if a.Is4() {
			return "", false
		}
		a = a.WithZone(zone)
	}
	var buf [64]byte
	return string(netip.AddrPortFrom(a, uint16(port)).AppendTo(buf[:0])), true
}

// udpAddrString is raddr.String() (sidecar patch: see ipPortString).
func udpAddrString(raddr net.Addr) string {
	if u, ok := raddr.(*net.UDPAddr); ok && u != nil {
		if s, ok := ipPortString(u.IP, u.Zone, u.Port); ok {
			return s
		}
	}
	return raddr.String()
}

func (a *Addr) Copy(d *Addr) {
	d.Hostname = a.Hostname
	d.Port = a.Port
	if a.IP != nil {
		d.IP = make(net.IP, len(a.IP))
		copy(d.IP, a.IP)
	}
}

func (a *Addr) parseAddr(addr string) error {
	host, port, err := ParseAddr(addr)
	a.IP = net.ParseIP(host)
	a.Port = port
	a.Hostname = host
	return err
}

func ParseAddr(addr string) (host string, port int, err error) {
	host, pstr, err := net.SplitHostPort(addr)
	if err != nil {
		return host, port, err
	}

	// In case we are dealing with some named ports this should be called
	// net.LookupPort(network)

	port, err = strconv.Atoi(pstr)
	return host, port, err
}
