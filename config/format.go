package config

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// Format writes the Config as sidecar.ini text, every key of every section, such that Parse
// of the text gives the same Config back. "sidecar check" can print it as the effective
// settings.
func (c *Config) Format() []byte {
	var b bytes.Buffer
	section := ""
	for _, k := range keySpecs() {
		if k.section != section {
			if section != "" {
				b.WriteByte('\n')
			}
			section = k.section
			fmt.Fprintf(&b, "[%s]\n", section)
		}
		vals, _ := c.formatKey(k.section, k.name)
		if k.repeat && len(vals) == 0 {
			fmt.Fprintf(&b, "; %s: none\n", k.name)
		}
		for _, v := range vals {
			if v == "" {
				fmt.Fprintf(&b, "%s =\n", k.name)
			} else {
				fmt.Fprintf(&b, "%s = %s\n", k.name, quote(v))
			}
		}
	}
	return b.Bytes()
}

// formatKey returns the values of one key as written in the file.
func (c *Config) formatKey(section, name string) ([]string, bool) {
	one := func(s string) ([]string, bool) { return []string{s}, true }
	switch section + "/" + name {
	case "general/templates":
		return one(c.General.Templates)
	case "general/log-level":
		return one(c.General.LogLevel)
	case "general/log-format":
		return one(c.General.LogFormat)
	case "general/watch":
		return one(formatBool(c.General.Watch))
	case "sip/listen":
		parts := make([]string, len(c.SIP.Listen))
		for i, l := range c.SIP.Listen {
			parts[i] = l.String()
		}
		return one(strings.Join(parts, ", "))
	case "sip/trusted":
		return one(c.SIP.Trusted.String())
	case "sip/untrusted":
		return one(c.SIP.Untrusted)
	case "sip/identify":
		return one(strings.Join(c.SIP.Identify, ", "))
	case "sip/max-calls":
		return one(strconv.Itoa(c.SIP.MaxCalls))
	case "sip/max-cps":
		return one(strconv.Itoa(c.SIP.MaxCPS))
	case "sip/max-queue-delay":
		return one(c.SIP.MaxQueueDelay.String())
	case "sip/drain-grace":
		return one(c.SIP.DrainGrace.String())
	case "sip/no-match":
		return one(strconv.Itoa(c.SIP.NoMatchCode))
	case "sip/default-context":
		return one(c.SIP.DefaultContext)
	case "sip/tls-cert":
		return one(c.SIP.TLSCert)
	case "sip/tls-key":
		return one(c.SIP.TLSKey)
	case "sip/user-agent":
		return one(c.SIP.UserAgent)
	case "sip/ack-timeout":
		return one(c.SIP.ACKTimeout.String())
	case "identify/ip":
		out := make([]string, len(c.Identify.IP))
		for i, r := range c.Identify.IP {
			out[i] = r.String()
		}
		return out, true
	case "identify/anonymous":
		return one(c.Identify.Anonymous)
	case "identify/username-prefix":
		return one(c.Identify.Username)
	case "rtp/ports":
		return one(fmt.Sprintf("%d-%d", c.RTP.PortMin, c.RTP.PortMax))
	case "rtp/address":
		return one(addrString(c.RTP.Address.String(), c.RTP.Address.IsValid()))
	case "rtp/bind":
		return one(addrString(c.RTP.Bind.String(), c.RTP.Bind.IsValid()))
	case "rtp/symmetric":
		return one(formatBool(c.RTP.Symmetric))
	case "rtp/timeout":
		return one(c.RTP.Timeout.String())
	case "rtp/sounds":
		return one(c.RTP.Sounds)
	case "admin/listen":
		return one(addrString(c.Admin.Listen.String(), c.Admin.Listen.IsValid()))
	case "admin/allow-remote":
		return one(formatBool(c.Admin.AllowRemote))
	case "admin/token":
		if c.Admin.TokenFile != "" {
			return one("")
		}
		return one(c.Admin.Token)
	case "admin/token-file":
		return one(c.Admin.TokenFile)
	case "admin/push-dir":
		return one(c.Admin.PushDir)
	case "cdr/path":
		return one(c.CDR.Path)
	case "cdr/queue":
		return one(strconv.Itoa(c.CDR.Queue))
	case "voicemail/dir":
		return one(c.Voicemail.Dir)
	case "voicemail/store":
		return one(RedactStore(c.Voicemail.Store))
	case "voicemail/maxmsg":
		return one(strconv.Itoa(c.Voicemail.MaxMsg))
	case "voicemail/maxsecs":
		return one(c.Voicemail.MaxDuration.String())
	case "voicemail/minsecs":
		return one(c.Voicemail.MinDuration.String())
	case "voicemail/maxsilence":
		return one(c.Voicemail.MaxSilence.String())
	case "voicemail/silence-threshold":
		return one(strconv.Itoa(c.Voicemail.SilenceThreshold))
	case "voicemail/max-login-attempts":
		return one(strconv.Itoa(c.Voicemail.MaxLoginAttempts))
	case "voicemail/lockout":
		return one(c.Voicemail.Lockout.String())
	case "voicemail/unavailable":
		return one(c.Voicemail.Unavailable)
	}
	return c.formatPresenceKey(section, name)
}

func addrString(s string, valid bool) string {
	if !valid {
		return ""
	}
	return s
}

// quote double-quotes a value that the ini reader would otherwise cut or trim.
func quote(v string) string {
	if strings.TrimSpace(v) == v && !strings.Contains(v, " ;") && !strings.Contains(v, " #") &&
		!strings.HasPrefix(v, `"`) && !strings.HasPrefix(v, "`") && !strings.HasPrefix(v, "'") &&
		!strings.HasPrefix(v, ";") && !strings.HasPrefix(v, "#") {
		return v
	}
	return `"` + strings.ReplaceAll(v, `"`, `\"`) + `"`
}
