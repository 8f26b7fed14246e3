package config

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Validate checks the whole Config and returns every problem, joined; each is an *Error
// naming its section and key. Load and Parse call it; call it yourself after building or
// changing a Config in code.
func (c *Config) Validate() error { return joinErrors(c.validate()) }

func (c *Config) validate() []*Error {
	var errs []*Error
	add := func(section, key string, err error) {
		if err != nil {
			errs = append(errs, &Error{Section: section, Key: key, Err: err})
		}
	}
	addAll := func(section, key string, list []error) {
		for _, err := range list {
			e := &Error{Section: section, Key: key, Err: err}
			var r *ruleError
			if errors.As(err, &r) {
				e.Err, e.item = r.err, r.item
			}
			errs = append(errs, e)
		}
	}

	// [general]
	add("general", "log-level", checkOneOf(c.General.LogLevel, "debug", "info", "warn", "error"))
	add("general", "log-format", checkOneOf(c.General.LogFormat, "text", "json"))

	// [sip]
	if len(c.SIP.Listen) == 0 {
		add("sip", "listen", errors.New("empty: list at least one listener, for example udp:127.0.0.1:5080"))
	}
	addAll("sip", "listen", checkListeners(c.SIP.Listen))
	if c.SIP.Trusted.Len() == 0 {
		add("sip", "trusted", errors.New("empty: every request would be untrusted; list Kamailio's addresses"))
	}
	add("sip", "untrusted", checkOneOf(c.SIP.Untrusted, "reject", "drop"))
	addAll("sip", "identify", checkIdentify(c.SIP.Identify))
	if n := c.SIP.MaxCalls; n < 1 || n > 1_000_000 {
		add("sip", "max-calls", fmt.Errorf("%d is outside 1-1000000", n))
	}
	if n := c.SIP.MaxCPS; n < 0 || n > 1_000_000 {
		add("sip", "max-cps", fmt.Errorf("%d is outside 0-1000000 (0: no rate limit)", n))
	}
	add("sip", "max-queue-delay", checkDuration(c.SIP.MaxQueueDelay, 0, 10*time.Second))
	add("sip", "drain-grace", checkDuration(c.SIP.DrainGrace, 0, time.Hour))
	if n := c.SIP.NoMatchCode; n < 400 || n > 699 {
		add("sip", "no-match", fmt.Errorf("%d is not a SIP failure status (400-699)", n))
	}
	add("sip", "default-context", checkName(c.SIP.DefaultContext))
	if tls := tlsListener(c.SIP.Listen); tls != "" {
		if c.SIP.TLSCert == "" {
			add("sip", "tls-cert", fmt.Errorf("required by listen %s", tls))
		}
		if c.SIP.TLSKey == "" {
			add("sip", "tls-key", fmt.Errorf("required by listen %s", tls))
		}
	}
	if (c.SIP.TLSCert == "") != (c.SIP.TLSKey == "") {
		if c.SIP.TLSKey == "" {
			add("sip", "tls-key", errors.New("tls-cert is set, tls-key is not; set both or neither"))
		} else {
			add("sip", "tls-cert", errors.New("tls-key is set, tls-cert is not; set both or neither"))
		}
	}
	add("sip", "user-agent", checkHeaderText(c.SIP.UserAgent))
	if c.SIP.ACKTimeout <= 0 {
		add("sip", "ack-timeout", fmt.Errorf("%s: must be above zero", c.SIP.ACKTimeout))
	} else {
		add("sip", "ack-timeout", checkDuration(c.SIP.ACKTimeout, 0, 5*time.Minute))
	}

	// [identify]
	uses := func(name string) bool { return slices.Contains(c.SIP.Identify, name) }
	addAll("identify", "ip", checkIPRules(c.Identify.IP))
	if len(c.Identify.IP) > 0 && !uses("ip") {
		add("identify", "ip", errors.New("rules are written but [sip] identify does not list ip, so they would never be used"))
	}
	if len(c.Identify.IP) == 0 && uses("ip") {
		add("sip", "identify", errNoIPRules)
	}
	if c.Identify.Anonymous != "" || uses("anonymous") {
		add("identify", "anonymous", checkName(c.Identify.Anonymous))
	}
	add("identify", "username-prefix", checkPrefix(c.Identify.Username))

	// [rtp]
	addAll("rtp", "ports", checkPorts(c.RTP.PortMin, c.RTP.PortMax))
	add("rtp", "address", checkMediaAddress(c.RTP.Address, c.SIP.Listen))
	add("rtp", "bind", checkBind(c.RTP.Bind, c.RTP.Address))
	add("rtp", "timeout", checkDuration(c.RTP.Timeout, 0, 24*time.Hour))

	// [cdr]
	if q := c.CDR.Queue; q < 1 || q > 1<<20 {
		add("cdr", "queue", fmt.Errorf("%d is outside 1-%d", q, 1<<20))
	}

	// [admin]
	if l := c.Admin.Listen; l.IsValid() && !l.Addr().IsLoopback() && !c.Admin.AllowRemote {
		add("admin", "listen", fmt.Errorf("%s is not a loopback address; set allow-remote = yes to expose the admin endpoint", l))
	}

	// [voicemail]
	vm := c.Voicemail
	if vm.Store != "" {
		add("voicemail", "store", checkStore(vm.Store))
	}
	if vm.MaxMsg < 0 || vm.MaxMsg > 9999 {
		add("voicemail", "maxmsg", fmt.Errorf("%d is outside 0-9999", vm.MaxMsg))
	}
	add("voicemail", "maxsecs", checkDuration(vm.MaxDuration, 0, time.Hour))
	add("voicemail", "minsecs", checkDuration(vm.MinDuration, 0, time.Hour))
	if vm.MaxDuration > 0 && vm.MinDuration > vm.MaxDuration {
		add("voicemail", "minsecs", fmt.Errorf("%s is over maxsecs %s", vm.MinDuration, vm.MaxDuration))
	}
	add("voicemail", "maxsilence", checkDuration(vm.MaxSilence, 0, time.Hour))
	if n := vm.SilenceThreshold; n < 1 || n > 32767 {
		add("voicemail", "silence-threshold", fmt.Errorf("%d is outside 1-32767", n))
	}
	if n := vm.MaxLoginAttempts; n < 1 || n > 100 {
		add("voicemail", "max-login-attempts", fmt.Errorf("%d is outside 1-100", n))
	}
	add("voicemail", "lockout", checkDuration(vm.Lockout, 0, 24*time.Hour))
	if vm.Unavailable != "prompt" && vm.Unavailable != "503" {
		add("voicemail", "unavailable", fmt.Errorf("%q is not one of prompt, 503", vm.Unavailable))
	}

	if l := c.Admin.Listen; l.IsValid() && !l.Addr().Unmap().IsLoopback() && c.Admin.Token == "" {
		add("admin", "listen", fmt.Errorf("%s is not a loopback address: set token (or token-file) so that only holders of the token reach the admin endpoint", l))
	}
	if t := c.Admin.Token; t != "" && (len(t) < MinTokenLen || strings.ContainsAny(t, " \t\r\n")) {
		key := "token"
		if c.Admin.TokenFile != "" {
			key = "token-file"
		}
		add("admin", key, fmt.Errorf("the token must be at least %d bytes with no white space (it is not shown)", MinTokenLen))
	}

	// [mwi], [presence]
	c.validatePresence(add)
	return errs
}

// errNoIPRules is reported when the chain lists ip without rules; Parse leaves it out when
// the rules were written but are all bad, since those errors say more.
var errNoIPRules = errors.New("ip is listed but [identify] has no ip rules")

func checkOneOf(v string, allowed ...string) error {
	if slices.Contains(allowed, v) {
		return nil
	}
	return fmt.Errorf("%q is not one of %s", v, strings.Join(allowed, ", "))
}

func checkDuration(d, lo, hi time.Duration) error {
	if d < lo || d > hi {
		return fmt.Errorf("%s is outside %s-%s", d, lo, hi)
	}
	return nil
}

// checkIdentify checks the identifier chain: known names, each once, anonymous last.
func checkIdentify(names []string) []error {
	if len(names) == 0 {
		return []error{fmt.Errorf("empty: list identifiers in order, from %s", strings.Join(Identifiers(), ", "))}
	}
	var errs []error
	for i, n := range names {
		if !slices.Contains(Identifiers(), n) {
			if s := closest(n, Identifiers()); s != "" {
				errs = append(errs, fmt.Errorf("unknown identifier %q; did you mean %s?", n, s))
			} else {
				errs = append(errs, fmt.Errorf("unknown identifier %q (one of %s)", n, strings.Join(Identifiers(), ", ")))
			}
			continue
		}
		if slices.Contains(names[:i], n) {
			errs = append(errs, fmt.Errorf("%s is listed twice", n))
			continue
		}
		if n == "anonymous" && i != len(names)-1 {
			errs = append(errs, fmt.Errorf("anonymous always matches, so it must come last; %s after it would never run", strings.Join(names[i+1:], ", ")))
		}
	}
	return errs
}

func checkIPRules(rules []IPRule) []error {
	var errs []error
	for i, r := range rules {
		switch {
		case !r.Prefix.IsValid():
			errs = append(errs, ruleErr(i, fmt.Errorf("rule %d has no address", i+1)))
			continue
		case r.Prefix.Masked() != r.Prefix:
			errs = append(errs, ruleErr(i, fmt.Errorf("%s has host bits set; did you mean %s?", r.Prefix, r.Prefix.Masked())))
		case r.Port < 0 || r.Port > 65535:
			errs = append(errs, ruleErr(i, fmt.Errorf("%s: port %d is outside 1-65535", r.Prefix, r.Port)))
		case r.Port != 0 && r.Prefix.Bits() != r.Prefix.Addr().BitLen():
			errs = append(errs, ruleErr(i, fmt.Errorf("%s: a network takes no port", r.Prefix)))
		}
		if err := checkName(r.Template); err != nil {
			errs = append(errs, ruleErr(i, fmt.Errorf("%s: template %w", formatAddrSpec(r.Prefix, r.Port), err)))
		}
		for j, o := range rules[:i] {
			if o.Prefix == r.Prefix && o.Port == r.Port {
				errs = append(errs, ruleErr(i, fmt.Errorf("%q has the same source as rule %d (%q), which always wins", r.String(), j+1, o.String())))
				break
			}
		}
	}
	return errs
}

// ruleError is a problem with one line of a repeatable key: item is its 1-based position.
type ruleError struct {
	item int
	err  error
}

func (e *ruleError) Error() string { return e.err.Error() }

func ruleErr(i int, err error) error { return &ruleError{item: i + 1, err: err} }

// checkPrefix checks the username prefix: "" or the characters of a template name.
func checkPrefix(p string) error {
	if p == "" {
		return nil
	}
	if err := checkName(p + "x"); err != nil {
		return fmt.Errorf("%q is not a valid template name prefix (letters, digits and -_. only)", p)
	}
	return nil
}

func checkPorts(lo, hi int) []error {
	var errs []error
	if lo < 1024 || hi > 65535 {
		errs = append(errs, fmt.Errorf("%d-%d is outside 1024-65535", lo, hi))
	}
	if lo >= hi {
		errs = append(errs, fmt.Errorf("%d-%d: the first port must be below the last", lo, hi))
	}
	if lo%2 != 0 {
		errs = append(errs, fmt.Errorf("%d-%d: the first port must be even (RTP even, RTCP odd)", lo, hi))
	}
	return errs
}

func defaultMediaAddress(ls []Listen) netip.Addr {
	for _, l := range ls {
		if a := l.Addr.Addr(); a.IsValid() && !a.IsUnspecified() {
			return a
		}
	}
	return netip.Addr{}
}

func checkMediaAddress(a netip.Addr, ls []Listen) error {
	switch {
	case !a.IsValid():
		if len(ls) > 0 {
			return errors.New("not set, and every [sip] listen address is a wildcard; write the IP to advertise in SDP")
		}
		return errors.New("not set")
	case a.IsUnspecified():
		return fmt.Errorf("%s is a wildcard; SDP needs the IP peers send media to", a)
	case a.IsMulticast():
		return fmt.Errorf("%s is a multicast address", a)
	}
	return nil
}

func checkBind(b, a netip.Addr) error {
	switch {
	case !b.IsValid():
		return errors.New("not set")
	case b.IsMulticast():
		return fmt.Errorf("%s is a multicast address", b)
	case a.IsValid() && b.Is4() != a.Is4():
		return fmt.Errorf("%s and address %s are of different IP versions", b, a)
	}
	return nil
}

func tlsListener(ls []Listen) string {
	for _, l := range ls {
		if l.Transport == "tls" {
			return l.String()
		}
	}
	return ""
}

// checkStore accepts a postgres:// or postgresql:// URL. Errors quote it with its password
// hidden.
func checkStore(v string) error {
	u, err := url.Parse(v)
	if err != nil {
		return fmt.Errorf("%q is not a URL; want postgres://user@host:port/database", RedactStore(v))
	}
	if u.Scheme != "postgres" && u.Scheme != "postgresql" {
		return fmt.Errorf("%q: want a postgres:// URL (PostgreSQL), or nothing for the directory store", RedactStore(v))
	}
	if u.Opaque != "" {
		return fmt.Errorf("%q: want postgres://user@host:port/database", RedactStore(v))
	}
	return nil
}

// RedactStore hides the password of a [voicemail] store URL (in the user part or a password
// parameter), for logs, errors and the formatted settings.
func RedactStore(v string) string {
	u, err := url.Parse(v)
	if err != nil {
		if strings.Contains(v, "@") || strings.Contains(v, "password") {
			return "(a malformed URL, not shown)"
		}
		return v
	}
	q := u.Query()
	if q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}
