package config

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"
)

// MWI is the [mwi] section: message-waiting indication (RFC 3842) for the mailboxes of the
// voicemail store: the SUBSCRIBE server, unsolicited NOTIFYs and the optional PUBLISH.
type MWI struct {
	// MinExpires is the shortest subscription accepted; shorter ones get 423 Interval Too
	// Brief with Min-Expires. Key: min-expires (a Go duration, whole seconds). Default 60s.
	MinExpires time.Duration
	// MaxExpires caps a subscription's duration; longer requests are granted MaxExpires.
	// Key: max-expires. Default 1h.
	MaxExpires time.Duration
	// DefaultExpires is granted to a SUBSCRIBE without Expires. Key: default-expires.
	// Default 1h (RFC 3842's suggested duration).
	DefaultExpires time.Duration
	// MaxSubscriptions bounds the live subscriptions; past it a new SUBSCRIBE gets 503.
	// Key: max-subscriptions. Default 10000.
	MaxSubscriptions int
	// MaxMailboxes bounds the table of mailboxes learned from calls' profiles (mwi = yes,
	// location) that get unsolicited NOTIFYs; the least recently learned is forgotten first.
	// Key: max-mailboxes. Default 10000.
	MaxMailboxes int
	// Proxy is where unsolicited NOTIFYs (and the MWI PUBLISH) are sent, a SIP URI such as
	// sip:192.0.2.7:5060 (;transport=tcp allowed); "" sends them to the Kamailio address the
	// call that named the mailbox came from. Key: proxy. Default "".
	Proxy string
	// Publish also PUBLISHes each learned mailbox's state (Event: message-summary) to the
	// presence server ([presence] server). Key: publish. Default no.
	Publish bool
}

// Presence is the [presence] section: the PUBLISH client (RFC 3903) for the dialog state
// (BLF, publish-dialog-info = yes) and, with [mwi] publish, the message summary.
type Presence struct {
	// Server is the presence server PUBLISHes go to, a SIP URI (sip:192.0.2.7:5060); "" sends
	// each to the Kamailio address the call came from. Key: server. Default "".
	Server string
	// Expires is the lifetime asked for each publication; it is refreshed before it ends.
	// Key: expires (a Go duration, whole seconds). Default 1h.
	Expires time.Duration
	// MaxPublications bounds the publications held (one per entity and event); past it a
	// new one is refused and logged. Key: max-publications. Default 10000.
	MaxPublications int
	// Queue bounds the dialog-state events waiting to be published; when full, events are
	// dropped (and counted) rather than delaying a call. Key: queue. Default 1000.
	Queue int
}

func defaultMWI() MWI {
	return MWI{MinExpires: time.Minute, MaxExpires: time.Hour, DefaultExpires: time.Hour,
		MaxSubscriptions: 10000, MaxMailboxes: 10000}
}

func defaultPresence() Presence {
	return Presence{Expires: time.Hour, MaxPublications: 10000, Queue: 1000}
}

// presenceSections are the sections of this file, in documentation order.
func presenceSections() []string { return []string{"mwi", "presence"} }

// presenceKeySpecs returns the keys of [mwi] and [presence], in documentation order.
func presenceKeySpecs() []keySpec {
	dur := func(f func(c *Config) *time.Duration) func(c *Config, v string) error {
		return func(c *Config, v string) (err error) {
			*f(c), err = parseDuration(v)
			return err
		}
	}
	num := func(f func(c *Config) *int) func(c *Config, v string) error {
		return func(c *Config, v string) (err error) {
			*f(c), err = parseInt(v)
			return err
		}
	}
	return []keySpec{
		{section: "mwi", name: "min-expires", apply: dur(func(c *Config) *time.Duration { return &c.MWI.MinExpires })},
		{section: "mwi", name: "max-expires", apply: dur(func(c *Config) *time.Duration { return &c.MWI.MaxExpires })},
		{section: "mwi", name: "default-expires", apply: dur(func(c *Config) *time.Duration { return &c.MWI.DefaultExpires })},
		{section: "mwi", name: "max-subscriptions", apply: num(func(c *Config) *int { return &c.MWI.MaxSubscriptions })},
		{section: "mwi", name: "max-mailboxes", apply: num(func(c *Config) *int { return &c.MWI.MaxMailboxes })},
		{section: "mwi", name: "proxy", apply: func(c *Config, v string) error {
			c.MWI.Proxy = v
			return nil
		}},
		{section: "mwi", name: "publish", apply: func(c *Config, v string) (err error) {
			c.MWI.Publish, err = parseBool(v)
			return err
		}},

		{section: "presence", name: "server", apply: func(c *Config, v string) error {
			c.Presence.Server = v
			return nil
		}},
		{section: "presence", name: "expires", apply: dur(func(c *Config) *time.Duration { return &c.Presence.Expires })},
		{section: "presence", name: "max-publications", apply: num(func(c *Config) *int { return &c.Presence.MaxPublications })},
		{section: "presence", name: "queue", apply: num(func(c *Config) *int { return &c.Presence.Queue })},
	}
}

// formatPresenceKey returns the value of one key of [mwi] or [presence] as written.
func (c *Config) formatPresenceKey(section, name string) ([]string, bool) {
	one := func(s string) ([]string, bool) { return []string{s}, true }
	switch section + "/" + name {
	case "mwi/min-expires":
		return one(c.MWI.MinExpires.String())
	case "mwi/max-expires":
		return one(c.MWI.MaxExpires.String())
	case "mwi/default-expires":
		return one(c.MWI.DefaultExpires.String())
	case "mwi/max-subscriptions":
		return one(strconv.Itoa(c.MWI.MaxSubscriptions))
	case "mwi/max-mailboxes":
		return one(strconv.Itoa(c.MWI.MaxMailboxes))
	case "mwi/proxy":
		return one(c.MWI.Proxy)
	case "mwi/publish":
		return one(formatBool(c.MWI.Publish))
	case "presence/server":
		return one(c.Presence.Server)
	case "presence/expires":
		return one(c.Presence.Expires.String())
	case "presence/max-publications":
		return one(strconv.Itoa(c.Presence.MaxPublications))
	case "presence/queue":
		return one(strconv.Itoa(c.Presence.Queue))
	}
	return nil, false
}

// validatePresence checks [mwi] and [presence]; add reports one problem.
func (c *Config) validatePresence(add func(section, key string, err error)) {
	m := c.MWI
	add("mwi", "min-expires", checkSeconds(m.MinExpires, time.Second, 24*time.Hour))
	add("mwi", "max-expires", checkSeconds(m.MaxExpires, time.Second, 7*24*time.Hour))
	if m.MaxExpires < m.MinExpires {
		add("mwi", "max-expires", fmt.Errorf("%s is below min-expires %s", m.MaxExpires, m.MinExpires))
	}
	add("mwi", "default-expires", checkSeconds(m.DefaultExpires, time.Second, 7*24*time.Hour))
	if m.DefaultExpires < m.MinExpires || m.DefaultExpires > m.MaxExpires {
		add("mwi", "default-expires", fmt.Errorf("%s is outside min-expires %s and max-expires %s",
			m.DefaultExpires, m.MinExpires, m.MaxExpires))
	}
	add("mwi", "max-subscriptions", checkRange(m.MaxSubscriptions, 1, 1_000_000))
	add("mwi", "max-mailboxes", checkRange(m.MaxMailboxes, 1, 1_000_000))
	add("mwi", "proxy", checkSIPURI(m.Proxy))

	p := c.Presence
	add("presence", "server", checkSIPURI(p.Server))
	add("presence", "expires", checkSeconds(p.Expires, 60*time.Second, 7*24*time.Hour))
	add("presence", "max-publications", checkRange(p.MaxPublications, 1, 1_000_000))
	add("presence", "queue", checkRange(p.Queue, 1, 1_000_000))
}

func checkRange(n, lo, hi int) error {
	if n < lo || n > hi {
		return fmt.Errorf("%d is outside %d-%d", n, lo, hi)
	}
	return nil
}

// checkSeconds checks a duration sent as SIP Expires: whole seconds within lo-hi.
func checkSeconds(d, lo, hi time.Duration) error {
	if d%time.Second != 0 {
		return fmt.Errorf("%s is not a whole number of seconds", d)
	}
	return checkDuration(d, lo, hi)
}

// checkSIPURI accepts "" or a sip:/sips: URI with a host and no user part.
func checkSIPURI(s string) error {
	if s == "" {
		return nil
	}
	if !strings.HasPrefix(strings.ToLower(s), "sip:") && !strings.HasPrefix(strings.ToLower(s), "sips:") {
		return fmt.Errorf("%q is not a sip: URI such as sip:192.0.2.7:5060", s)
	}
	var u sip.Uri
	if err := sip.ParseUri(s, &u); err != nil || u.Host == "" {
		return fmt.Errorf("%q is not a sip: URI such as sip:192.0.2.7:5060", s)
	}
	if tp, ok := u.UriParams.Get("transport"); ok && tp != "udp" && tp != "tcp" && tp != "tls" {
		return fmt.Errorf("%q: transport %q is not udp, tcp or tls", s, tp)
	}
	if u.User != "" {
		return errors.New("give the proxy's address only, no user part")
	}
	return nil
}
