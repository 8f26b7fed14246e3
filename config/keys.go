package config

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strings"
)

// keySpec describes one key of sidecar.ini: its section, its name, whether it may be
// repeated, and how a value is applied to a Config.
type keySpec struct {
	section, name string
	// repeat keys (ip) take one value per line, in order; the others must appear once.
	repeat bool
	// apply sets the key's field from one value (already trimmed and unquoted).
	apply func(c *Config, v string) error
}

// sectionNames lists the sections in documentation order.
func sectionNames() []string {
	return append([]string{"general", "sip", "identify", "rtp", "admin", "cdr", "voicemail"}, presenceSections()...)
}

// keySpecs returns every key of every section, in documentation order.
func keySpecs() []keySpec {
	return append([]keySpec{
		{section: "general", name: "templates", apply: func(c *Config, v string) error {
			c.General.Templates = v
			return nil
		}},
		{section: "general", name: "log-level", apply: func(c *Config, v string) error {
			return oneOf(&c.General.LogLevel, strings.ToLower(v), "debug", "info", "warn", "error")
		}},
		{section: "general", name: "log-format", apply: func(c *Config, v string) error {
			return oneOf(&c.General.LogFormat, strings.ToLower(v), "text", "json")
		}},
		{section: "general", name: "watch", apply: func(c *Config, v string) (err error) {
			c.General.Watch, err = parseBool(v)
			return err
		}},

		{section: "sip", name: "listen", apply: func(c *Config, v string) error {
			l, err := ParseListen(v)
			if err == nil {
				c.SIP.Listen = l
			}
			return err
		}},
		{section: "sip", name: "trusted", apply: func(c *Config, v string) error {
			t, err := ParseTrustList(v)
			if err == nil {
				c.SIP.Trusted = t
			}
			return err
		}},
		{section: "sip", name: "untrusted", apply: func(c *Config, v string) error {
			return oneOf(&c.SIP.Untrusted, strings.ToLower(v), "reject", "drop")
		}},
		{section: "sip", name: "identify", apply: func(c *Config, v string) error {
			c.SIP.Identify = splitList(strings.ToLower(v))
			if len(c.SIP.Identify) == 0 {
				return fmt.Errorf("empty: list identifiers in order, from %s", strings.Join(Identifiers(), ", "))
			}
			return nil // names are checked by Validate
		}},
		{section: "sip", name: "max-calls", apply: func(c *Config, v string) (err error) {
			c.SIP.MaxCalls, err = parseInt(v)
			return err
		}},
		{section: "sip", name: "max-cps", apply: func(c *Config, v string) (err error) {
			c.SIP.MaxCPS, err = parseInt(v)
			return err
		}},
		{section: "sip", name: "max-queue-delay", apply: func(c *Config, v string) (err error) {
			c.SIP.MaxQueueDelay, err = parseDuration(v)
			return err
		}},
		{section: "sip", name: "drain-grace", apply: func(c *Config, v string) (err error) {
			c.SIP.DrainGrace, err = parseDuration(v)
			return err
		}},
		{section: "sip", name: "no-match", apply: func(c *Config, v string) (err error) {
			c.SIP.NoMatchCode, err = parseInt(v)
			return err
		}},
		{section: "sip", name: "default-context", apply: func(c *Config, v string) error {
			c.SIP.DefaultContext = v
			return nil
		}},
		{section: "sip", name: "tls-cert", apply: func(c *Config, v string) error {
			c.SIP.TLSCert = v
			return nil
		}},
		{section: "sip", name: "tls-key", apply: func(c *Config, v string) error {
			c.SIP.TLSKey = v
			return nil
		}},
		{section: "sip", name: "user-agent", apply: func(c *Config, v string) error {
			c.SIP.UserAgent = v
			return nil
		}},
		{section: "sip", name: "ack-timeout", apply: func(c *Config, v string) (err error) {
			c.SIP.ACKTimeout, err = parseDuration(v)
			return err
		}},

		{section: "identify", name: "ip", repeat: true, apply: func(c *Config, v string) error {
			r, err := parseIPRule(v)
			if err != nil {
				return err
			}
			c.Identify.IP = append(c.Identify.IP, r)
			return nil
		}},
		{section: "identify", name: "anonymous", apply: func(c *Config, v string) error {
			c.Identify.Anonymous = v
			return nil
		}},
		{section: "identify", name: "username-prefix", apply: func(c *Config, v string) error {
			c.Identify.Username = v
			return nil
		}},

		{section: "rtp", name: "ports", apply: func(c *Config, v string) (err error) {
			c.RTP.PortMin, c.RTP.PortMax, err = parsePorts(v)
			return err
		}},
		{section: "rtp", name: "address", apply: func(c *Config, v string) (err error) {
			c.RTP.Address, err = parseIP(v)
			return err
		}},
		{section: "rtp", name: "bind", apply: func(c *Config, v string) (err error) {
			c.RTP.Bind, err = parseIP(v)
			return err
		}},
		{section: "rtp", name: "symmetric", apply: func(c *Config, v string) (err error) {
			c.RTP.Symmetric, err = parseBool(v)
			return err
		}},
		{section: "rtp", name: "timeout", apply: func(c *Config, v string) (err error) {
			c.RTP.Timeout, err = parseDuration(v)
			return err
		}},
		{section: "rtp", name: "sounds", apply: func(c *Config, v string) error {
			c.RTP.Sounds = v
			return nil
		}},

		{section: "admin", name: "listen", apply: func(c *Config, v string) (err error) {
			c.Admin.Listen, err = parseAdminListen(v)
			return err
		}},
		{section: "admin", name: "allow-remote", apply: func(c *Config, v string) (err error) {
			c.Admin.AllowRemote, err = parseBool(v)
			return err
		}},
		{section: "admin", name: "token", apply: func(c *Config, v string) error {
			if v != "" && c.Admin.TokenFile != "" {
				return errors.New("set token or token-file, not both")
			}
			c.Admin.Token = v
			return nil
		}},
		{section: "admin", name: "token-file", apply: func(c *Config, v string) error {
			if v == "" {
				return nil
			}
			if c.Admin.Token != "" {
				return errors.New("set token or token-file, not both")
			}
			b, err := os.ReadFile(v)
			if err != nil {
				return fmt.Errorf("read token: %w", err)
			}
			if c.Admin.Token = strings.TrimSpace(string(b)); c.Admin.Token == "" {
				return fmt.Errorf("%s holds no token", v)
			}
			c.Admin.TokenFile = v
			return nil
		}},
		{section: "admin", name: "push-dir", apply: func(c *Config, v string) error {
			c.Admin.PushDir = v
			return nil
		}},

		{section: "cdr", name: "path", apply: func(c *Config, v string) error {
			c.CDR.Path = v
			return nil
		}},
		{section: "cdr", name: "queue", apply: func(c *Config, v string) (err error) {
			c.CDR.Queue, err = parseInt(v)
			return err
		}},

		{section: "voicemail", name: "dir", apply: func(c *Config, v string) error {
			c.Voicemail.Dir = v
			return nil
		}},
		{section: "voicemail", name: "store", apply: func(c *Config, v string) error {
			c.Voicemail.Store = v
			return nil
		}},
		{section: "voicemail", name: "maxmsg", apply: func(c *Config, v string) (err error) {
			c.Voicemail.MaxMsg, err = parseInt(v)
			return err
		}},
		{section: "voicemail", name: "maxsecs", apply: func(c *Config, v string) (err error) {
			c.Voicemail.MaxDuration, err = parseDuration(v)
			return err
		}},
		{section: "voicemail", name: "minsecs", apply: func(c *Config, v string) (err error) {
			c.Voicemail.MinDuration, err = parseDuration(v)
			return err
		}},
		{section: "voicemail", name: "maxsilence", apply: func(c *Config, v string) (err error) {
			c.Voicemail.MaxSilence, err = parseDuration(v)
			return err
		}},
		{section: "voicemail", name: "silence-threshold", apply: func(c *Config, v string) (err error) {
			c.Voicemail.SilenceThreshold, err = parseInt(v)
			return err
		}},
		{section: "voicemail", name: "max-login-attempts", apply: func(c *Config, v string) (err error) {
			c.Voicemail.MaxLoginAttempts, err = parseInt(v)
			return err
		}},
		{section: "voicemail", name: "lockout", apply: func(c *Config, v string) (err error) {
			c.Voicemail.Lockout, err = parseDuration(v)
			return err
		}},
		{section: "voicemail", name: "unavailable", apply: func(c *Config, v string) error {
			return oneOf(&c.Voicemail.Unavailable, strings.ToLower(v), "prompt", "503")
		}},
	}, presenceKeySpecs()...)
}

// lookupKey finds the spec of section/key.
func lookupKey(specs []keySpec, section, key string) (keySpec, bool) {
	for _, k := range specs {
		if k.section == section && k.name == key {
			return k, true
		}
	}
	return keySpec{}, false
}

func oneOf(dst *string, v string, allowed ...string) error {
	for _, a := range allowed {
		if v == a {
			*dst = v
			return nil
		}
	}
	return fmt.Errorf("%q is not one of %s", v, strings.Join(allowed, ", "))
}

// parseIPRule parses "PREFIX[:PORT] => template".
func parseIPRule(v string) (IPRule, error) {
	addr, tmpl, ok := strings.Cut(v, "=>")
	if !ok {
		return IPRule{}, fmt.Errorf("%q is not \"ADDRESS => template\", for example 192.0.2.0/24 => trunk", v)
	}
	addr, tmpl = strings.TrimSpace(addr), strings.TrimSpace(tmpl)
	p, port, err := parseAddrSpec(addr)
	if err != nil {
		return IPRule{}, err
	}
	if tmpl == "" {
		return IPRule{}, fmt.Errorf("%q names no template after =>", v)
	}
	if err := checkName(tmpl); err != nil {
		return IPRule{}, fmt.Errorf("template %w", err)
	}
	return IPRule{Prefix: p, Port: port, Template: tmpl}, nil
}

// parseAdminListen parses ip:port ("" disables the endpoint; port 0 picks a free port).
func parseAdminListen(v string) (netip.AddrPort, error) {
	if v == "" {
		return netip.AddrPort{}, nil
	}
	ap, err := netip.ParseAddrPort(v)
	if err != nil {
		switch {
		case isIP(v):
			return netip.AddrPort{}, fmt.Errorf("%q has no port; write %s:8080", v, v)
		case isHostName(strings.Split(v, ":")[0]):
			return netip.AddrPort{}, fmt.Errorf("%q: %q is a host name; write an IP address", v, strings.Split(v, ":")[0])
		default:
			return netip.AddrPort{}, fmt.Errorf("%q is not ip:port such as 127.0.0.1:8080", v)
		}
	}
	if ap.Addr().Zone() != "" {
		return netip.AddrPort{}, fmt.Errorf("%q: zoned addresses are not supported", v)
	}
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), nil
}
