package config

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// TrustList is the set of sources the SIP service accepts requests from: IP addresses and
// networks, each optionally limited to one source port. The zero TrustList trusts nobody.
// A TrustList is immutable and safe for concurrent use.
type TrustList struct {
	entries []trustEntry
}

type trustEntry struct {
	prefix netip.Prefix // always masked, never IPv4-mapped IPv6
	port   int          // 0 = any port
}

// ParseTrustList parses the trusted key's syntax: a comma-separated list of entries, each an
// IP address ("127.0.0.1", "2001:db8::1"), a CIDR ("10.0.0.0/8", "2001:db8::/32") or an
// address with a port ("192.0.2.7:5060", "[2001:db8::1]:5060"). IPv4-mapped IPv6 addresses
// are stored as IPv4.
func ParseTrustList(s string) (TrustList, error) {
	var (
		t    TrustList
		errs []error
	)
	for _, item := range splitList(s) {
		p, port, err := parseAddrSpec(item)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		e := trustEntry{prefix: p, port: port}
		dup := false
		for _, old := range t.entries {
			if old == e {
				errs = append(errs, fmt.Errorf("%q is listed twice", item))
				dup = true
				break
			}
		}
		if !dup {
			t.entries = append(t.entries, e)
		}
	}
	if len(errs) > 0 {
		return TrustList{}, errors.Join(errs...)
	}
	if len(t.entries) == 0 {
		return TrustList{}, errors.New("empty: list at least one address, for example 127.0.0.1")
	}
	return t, nil
}

// MustParseTrustList is ParseTrustList for constants in code and tests; it panics on error.
func MustParseTrustList(s string) TrustList {
	t, err := ParseTrustList(s)
	if err != nil {
		panic("config: " + err.Error())
	}
	return t
}

// Allows reports whether a request from src is trusted. An IPv4-mapped IPv6 source
// (::ffff:192.0.2.7) is compared as IPv4; an address with a zone is compared without it.
func (t TrustList) Allows(src netip.AddrPort) bool {
	ip := src.Addr().Unmap().WithZone("")
	for _, e := range t.entries {
		if e.prefix.Contains(ip) && (e.port == 0 || e.port == int(src.Port())) {
			return true
		}
	}
	return false
}

// Len returns the number of entries.
func (t TrustList) Len() int { return len(t.entries) }

// String formats the list in the trusted key's syntax.
func (t TrustList) String() string {
	parts := make([]string, len(t.entries))
	for i, e := range t.entries {
		parts[i] = formatAddrSpec(e.prefix, e.port)
	}
	return strings.Join(parts, ", ")
}

// parseAddrSpec parses one address entry: IP, CIDR, ipv4:port or [ipv6]:port. It returns a
// masked, unmapped prefix and the port (0 when none was given).
func parseAddrSpec(s string) (netip.Prefix, int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return netip.Prefix{}, 0, errors.New("empty address")
	}
	if strings.Contains(s, "%") {
		return netip.Prefix{}, 0, fmt.Errorf("%q: zoned addresses are not supported", s)
	}
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		s = s[1 : len(s)-1] // "[2001:db8::1]" without a port
	}
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			if i := strings.LastIndexByte(s, ':'); i > strings.IndexByte(s, '/') {
				return netip.Prefix{}, 0, fmt.Errorf("%q: a network takes no port; list single addresses with a port instead", s)
			}
			return netip.Prefix{}, 0, fmt.Errorf("%q is not a valid CIDR", s)
		}
		if m := p.Masked(); m != p {
			return netip.Prefix{}, 0, fmt.Errorf("%q has host bits set; did you mean %s?", s, m)
		}
		return unmapPrefix(p), 0, nil
	}
	if a, err := netip.ParseAddr(s); err == nil {
		a = a.Unmap()
		return netip.PrefixFrom(a, a.BitLen()), 0, nil
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		if ap.Port() == 0 {
			return netip.Prefix{}, 0, fmt.Errorf("%q: port 0 never matches; leave the port out to match any", s)
		}
		a := ap.Addr().Unmap()
		return netip.PrefixFrom(a, a.BitLen()), int(ap.Port()), nil
	}
	if strings.Count(s, ":") > 1 && !strings.HasPrefix(s, "[") {
		return netip.Prefix{}, 0, fmt.Errorf("%q is not an IP address; an IPv6 address with a port needs brackets: [2001:db8::1]:5060", s)
	}
	if isHostName(s) {
		return netip.Prefix{}, 0, fmt.Errorf("%q is a host name; write an IP address or CIDR", s)
	}
	return netip.Prefix{}, 0, fmt.Errorf("%q is not an IP address or CIDR", s)
}

// unmapPrefix turns ::ffff:a.b.c.d/n (n >= 96) into a.b.c.d/(n-96).
func unmapPrefix(p netip.Prefix) netip.Prefix {
	if p.Addr().Is4In6() && p.Bits() >= 96 {
		return netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
	}
	return p
}

// formatAddrSpec is the inverse of parseAddrSpec.
func formatAddrSpec(p netip.Prefix, port int) string {
	if !p.IsValid() {
		return ""
	}
	if p.Bits() == p.Addr().BitLen() {
		if port != 0 {
			return netip.AddrPortFrom(p.Addr(), uint16(port)).String()
		}
		return p.Addr().String()
	}
	if port != 0 {
		return p.String() + " port " + strconv.Itoa(port)
	}
	return p.String()
}

func isHostName(s string) bool {
	hasLetter := false
	for _, c := range s {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
			hasLetter = true
		case c >= '0' && c <= '9', c == '-', c == '.', c == ':':
		default:
			return false
		}
	}
	return hasLetter
}

// splitList splits a comma-separated value, trimming spaces and dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}
