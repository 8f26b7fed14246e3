package config

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// parseBool accepts yes/no, true/false, on/off and 1/0, case-insensitively.
func parseBool(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "yes", "true", "on", "1":
		return true, nil
	case "no", "false", "off", "0":
		return false, nil
	}
	return false, fmt.Errorf("%q is not yes or no", s)
}

func formatBool(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// parseDuration parses a Go duration ("30s", "1m30s"); a bare "0" is zero.
func parseDuration(s string) (time.Duration, error) {
	if s == "0" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		if _, nerr := strconv.Atoi(s); nerr == nil {
			return 0, fmt.Errorf("%q has no unit; write %ss", s, s)
		}
		return 0, fmt.Errorf("%q is not a duration such as 30s or 1m", s)
	}
	if d < 0 {
		return 0, fmt.Errorf("%q is negative", s)
	}
	return d, nil
}

func parseInt(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a whole number", s)
	}
	return n, nil
}

// parsePorts parses "MIN-MAX".
func parsePorts(s string) (lo, hi int, err error) {
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return 0, 0, fmt.Errorf("%q is not a range MIN-MAX such as 20000-29999", s)
	}
	lo, err1 := strconv.Atoi(strings.TrimSpace(a))
	hi, err2 := strconv.Atoi(strings.TrimSpace(b))
	if err1 != nil || err2 != nil {
		return 0, 0, fmt.Errorf("%q is not a range MIN-MAX such as 20000-29999", s)
	}
	return lo, hi, nil
}

// parseIP parses an IP address for the rtp keys; IPv4-mapped addresses become IPv4.
func parseIP(s string) (netip.Addr, error) {
	a, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(s, "["), "]"))
	if err != nil {
		if isHostName(s) {
			return netip.Addr{}, fmt.Errorf("%q is a host name; write an IP address", s)
		}
		return netip.Addr{}, fmt.Errorf("%q is not an IP address", s)
	}
	if a.Zone() != "" {
		return netip.Addr{}, fmt.Errorf("%q: zoned addresses are not supported", s)
	}
	return a.Unmap(), nil
}

// checkName checks a template or context name: 1-64 ASCII letters, digits and "-_.", the
// characters package profile accepts in a template name.
func checkName(s string) error {
	if s == "" {
		return errors.New("empty name")
	}
	if len(s) > 64 {
		return fmt.Errorf("%q is longer than 64 characters", s)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-_.", c) >= 0 {
			continue
		}
		return fmt.Errorf("%q is not a valid name (letters, digits and -_. only)", s)
	}
	return nil
}

// checkHeaderText checks a value that goes into a SIP header: printable ASCII and spaces.
func checkHeaderText(s string) error {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e {
			return fmt.Errorf("%q has a character not allowed in a SIP header", s)
		}
	}
	if len(s) > 128 {
		return fmt.Errorf("%q is longer than 128 characters", s)
	}
	return nil
}
