package config

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
)

// Transports returns the transports a listen entry may name.
func Transports() []string { return []string{"udp", "tcp", "tls"} }

// ParseListen parses the [sip] listen key's syntax: a comma-separated list of
// transport:ip:port entries ("udp:127.0.0.1:5080, tcp:[::1]:5080, tls:0.0.0.0:5061").
// IPv6 addresses are bracketed; host names are not accepted.
func ParseListen(s string) ([]Listen, error) {
	var (
		out  []Listen
		errs []error
	)
	for _, item := range splitList(s) {
		l, err := parseListenItem(item)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, l)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if len(out) == 0 {
		return nil, errors.New("empty: list at least one listener, for example udp:127.0.0.1:5080")
	}
	return out, nil
}

func parseListenItem(item string) (Listen, error) {
	transport, rest, ok := strings.Cut(item, ":")
	transport = strings.ToLower(strings.TrimSpace(transport))
	if !ok || !isTransport(transport) {
		if _, err := netip.ParseAddrPort(item); err == nil {
			return Listen{}, fmt.Errorf("%q has no transport; write udp:%s", item, item)
		}
		if _, err := netip.ParseAddr(item); err == nil {
			return Listen{}, fmt.Errorf("%q has no transport and no port; write udp:%s:5080", item, item)
		}
		if !ok {
			return Listen{}, fmt.Errorf("%q is not transport:ip:port", item)
		}
		return Listen{}, fmt.Errorf("%q: unknown transport %q (one of %s)", item, transport, strings.Join(Transports(), ", "))
	}
	rest = strings.TrimSpace(rest)
	ap, err := netip.ParseAddrPort(rest)
	if err != nil {
		switch {
		case rest == "":
			return Listen{}, fmt.Errorf("%q has no address", item)
		case strings.Count(rest, ":") > 1 && !strings.HasPrefix(rest, "["):
			return Listen{}, fmt.Errorf("%q: an IPv6 address needs brackets, as in %s:[2001:db8::1]:5080", item, transport)
		case isIP(rest):
			return Listen{}, fmt.Errorf("%q has no port", item)
		case isHostName(rest) || isHostName(strings.Split(rest, ":")[0]):
			return Listen{}, fmt.Errorf("%q: %q is a host name; write an IP address", item, strings.Split(rest, ":")[0])
		default:
			return Listen{}, fmt.Errorf("%q is not transport:ip:port", item)
		}
	}
	if ap.Addr().Zone() != "" {
		return Listen{}, fmt.Errorf("%q: zoned addresses are not supported", item)
	}
	return Listen{Transport: transport, Addr: netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())}, nil
}

func isTransport(s string) bool {
	for _, t := range Transports() {
		if s == t {
			return true
		}
	}
	return false
}

func isIP(s string) bool {
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		s = s[1 : len(s)-1]
	}
	_, err := netip.ParseAddr(s)
	return err == nil
}

// checkListeners reports listeners that collide: the same transport and address twice, or tcp
// and tls on the same address (both need the TCP port).
func checkListeners(ls []Listen) []error {
	var errs []error
	for i, a := range ls {
		if a.Transport == "" && !a.Addr.IsValid() {
			errs = append(errs, errors.New("empty listener"))
			continue
		}
		if !a.Addr.IsValid() {
			errs = append(errs, fmt.Errorf("listener %d (%s) has no address", i+1, a.Transport))
			continue
		}
		if !isTransport(a.Transport) {
			errs = append(errs, fmt.Errorf("%q: unknown transport %q (one of %s)", a.String(), a.Transport, strings.Join(Transports(), ", ")))
		}
		for _, b := range ls[:i] {
			if a.Addr.Port() == 0 || a.Addr != b.Addr {
				continue
			}
			if a.Transport == b.Transport {
				errs = append(errs, fmt.Errorf("%q is listed twice", a.String()))
			} else if a.Transport != "udp" && b.Transport != "udp" {
				errs = append(errs, fmt.Errorf("%q and %q both need TCP port %d on %s", b.String(), a.String(), a.Addr.Port(), a.Addr.Addr()))
			}
		}
	}
	return errs
}
