// Package config reads sidecar.ini, the sidecar's settings file, into a typed and validated
// Config.
//
// The file is read with gopkg.in/ini.v1. Every section and key is known: an unknown one is an
// error with a "did you mean" suggestion, because ini.v1 would otherwise accept a typo silently.
// Every error names the file, the line, the section, the key and the bad value:
//
//	sidecar.ini:7: [sip] listen: "udp:127.0.0.1" has no port
//
// With no file the sidecar runs on Default(): SIP on udp and tcp 127.0.0.1:5080, trusting
// 127.0.0.0/8, with the templates embedded in the binary. examples/sidecar.ini documents every
// key and docs/configuration.md is the reference.
package config

import (
	"net/netip"
	"time"
)

// Config is the whole settings file. A Config returned by Load, Parse or Default is valid; a
// Config built or changed in code should be checked with Validate.
type Config struct {
	// General is the [general] section.
	General General
	// SIP is the [sip] section.
	SIP SIP
	// Identify is the [identify] section: the identifiers' settings.
	Identify Identify
	// RTP is the [rtp] section: the media plane.
	RTP RTP
	// Admin is the [admin] section: the HTTP admin endpoint.
	Admin Admin
	// CDR is the [cdr] section: call records.
	CDR CDR
	// Voicemail is the [voicemail] section: the mailbox store and the limits of the
	// VoiceMail and VoiceMailMain applications.
	Voicemail Voicemail
	// MWI is the [mwi] section: message-waiting indication.
	MWI MWI
	// Presence is the [presence] section: the PUBLISH client (BLF, MWI).
	Presence Presence
}

// General is the [general] section.
type General struct {
	// Templates is the directory of template and dialplan files; "" means the templates
	// embedded in the binary. Key: templates. Default "".
	Templates string
	// LogLevel is debug, info, warn or error. Key: log-level. Default info.
	LogLevel string
	// LogFormat is text or json. Key: log-format. Default text.
	LogFormat string
	// Watch reloads the settings and the templates when their files change (as SIGHUP and
	// POST /reload do). Key: watch. Default no.
	Watch bool
}

// SIP is the [sip] section.
type SIP struct {
	// Listen is where the SIP service listens, in order. Key: listen, a comma-separated list
	// of transport:ip:port ("udp:127.0.0.1:5080, tcp:[::1]:5080, tls:0.0.0.0:5061").
	// Default udp:127.0.0.1:5080, tcp:127.0.0.1:5080.
	Listen []Listen
	// Trusted is who may send requests (Kamailio's addresses). Key: trusted, a comma-separated
	// list of IPs and CIDRs, each with an optional port. Default 127.0.0.0/8.
	Trusted TrustList
	// Untrusted is what happens to a request from outside Trusted: "reject" answers 403,
	// "drop" sends nothing. Key: untrusted. Default reject.
	Untrusted string
	// Identify is the identifier chain, in order; the first identifier that matches wins.
	// Names: header, ip, username, anonymous (see Identifiers). Key: identify. Default header.
	Identify []string
	// MaxCalls is the number of concurrent calls; past it new INVITEs get 503.
	// Key: max-calls. Default 1000.
	MaxCalls int
	// MaxCPS is the number of new calls (initial INVITEs) admitted per second; past it an
	// INVITE is answered 503 with Retry-After at once, before any transaction or template
	// work, and out-of-dialog OPTIONS answer 503 while refusals last. 0 turns the rate limit
	// off (max-calls still applies). Key: max-cps. Default 0.
	MaxCPS int
	// MaxQueueDelay is the overload control that needs no measured rate: a new INVITE is
	// refused like one past MaxCPS while the INVITEs admitted before it waited longer than
	// this between arriving at the UDP socket and getting their first answer (the oldest
	// still waiting, or the one being decided), so the node sheds what it cannot serve in
	// time instead of queueing it. 0 turns it off. Key: max-queue-delay (a Go duration).
	// Default 100ms.
	MaxQueueDelay time.Duration
	// DrainGrace is how long a stopping sidecar waits for calls to end before hanging them
	// up. Key: drain-grace (a Go duration). Default 30s.
	DrainGrace time.Duration
	// NoMatchCode is the SIP status answered when no identifier matches (400-699).
	// Key: no-match. Default 403.
	NoMatchCode int
	// DefaultContext is the dialplan context used when neither profile names one.
	// Key: default-context. Default "default".
	DefaultContext string
	// TLSCert and TLSKey are the PEM certificate and key files for tls listeners; both are
	// required when any listener is tls. Keys: tls-cert, tls-key. Default "".
	TLSCert, TLSKey string
	// UserAgent is the value of the Server and User-Agent headers the sidecar sends; ""
	// omits them. Key: user-agent. Default "sidecar".
	UserAgent string
	// ACKTimeout is how long an answered INVITE waits for its ACK before the sidecar sends
	// BYE. Key: ack-timeout (a Go duration). Default 32s (64*T1, RFC 3261).
	ACKTimeout time.Duration
}

// Listen is one SIP listener.
type Listen struct {
	// Transport is "udp", "tcp" or "tls".
	Transport string
	// Addr is the IP and port to bind. Port 0 picks a free port (for tests).
	Addr netip.AddrPort
}

// String formats the listener as transport:ip:port, the syntax of the listen key.
func (l Listen) String() string { return l.Transport + ":" + l.Addr.String() }

// Identify is the [identify] section: settings of the identifiers named in [sip] identify.
type Identify struct {
	// IP maps source addresses to caller templates, for trunks and other servers. Key: ip,
	// repeatable, "PREFIX[:PORT] => template". The longest prefix wins; at equal length a rule
	// with a port beats one without; remaining ties go to the first rule written.
	IP []IPRule
	// Anonymous is the template of the anonymous identifier. Key: anonymous.
	// Default "anonymous".
	Anonymous string
	// Username is the prefix the username identifier puts before the From user to name a
	// template (From user "alice" -> template "<prefix>alice"). Key: username-prefix.
	// Default "".
	Username string
}

// IPRule is one [identify] ip line.
type IPRule struct {
	// Prefix is the source network; a single address is a /32 or /128.
	Prefix netip.Prefix
	// Port is the source port, 0 for any.
	Port int
	// Template is the caller template of a request from this source.
	Template string
}

// String formats the rule as written in the file: "192.0.2.0/24 => trunk".
func (r IPRule) String() string {
	return formatAddrSpec(r.Prefix, r.Port) + " => " + r.Template
}

// RTP is the [rtp] section: the media plane.
type RTP struct {
	// PortMin and PortMax bound the RTP ports (RTCP uses port+1). Key: ports, "MIN-MAX" with
	// an even MIN, within 1024-65535. Default 20000-29999.
	PortMin, PortMax int
	// Address is the media IP advertised in SDP. Key: address. Default: the first [sip]
	// listen IP that is not 0.0.0.0 or ::; it must be set when every listener binds a
	// wildcard address.
	Address netip.Addr
	// Bind is the IP RTP sockets bind to; it may be a wildcard (0.0.0.0). Key: bind.
	// Default: Address.
	Bind netip.Addr
	// Symmetric latches the remote media address on the first packet received (for callers
	// behind NAT) instead of trusting the SDP. Key: symmetric. Default yes.
	Symmetric bool
	// Timeout is how long a call may go without receiving RTP before the sidecar hangs up
	// with BYE; 0 disables it. Key: timeout (a Go duration). Default 30s.
	Timeout time.Duration
	// Sounds is the directory of prompt files; "" means the sounds embedded in the binary.
	// Key: sounds. Default "".
	Sounds string
}

// Admin is the [admin] section: the HTTP admin endpoint (health, metrics, status; see
// package admin and docs/admin.md).
type Admin struct {
	// Listen is the ip:port the admin endpoint listens on; the zero value disables it.
	// Port 0 picks a free port. Key: listen. Default "" (disabled).
	Listen netip.AddrPort
	// AllowRemote permits a Listen address that is not loopback. Key: allow-remote.
	// Default no.
	AllowRemote bool
	// Token is the bearer token every request must carry ("Authorization: Bearer TOKEN")
	// when set: required (at least MinTokenLen bytes) when Listen is not loopback, optional
	// on loopback. A secret: never logged. Key: token, or token-file (a file holding it,
	// surrounding white space trimmed). Default "".
	Token string
	// TokenFile is the file Token was read from; "" when written inline. Key: token-file.
	TokenFile string
	// PushDir is where templates pushed over the admin API are persisted so they survive a
	// restart; "" keeps them in memory only (the proxy pushes them again). Key: push-dir.
	// Default "".
	PushDir string
}

// MinTokenLen is the shortest [admin] token accepted.
const MinTokenLen = 16

// CDR is the [cdr] section: call records, one JSON line per finished call (package cdr,
// docs/operations.md).
type CDR struct {
	// Path is the file the records are appended to; "-" writes them to standard output and
	// "" (the default) disables them. Key: path.
	Path string
	// Queue is how many records may wait for the writer before new ones are dropped (and
	// counted). Key: queue. Default 1024.
	Queue int
}

// Voicemail is the [voicemail] section. The limits are Asterisk's voicemail.conf defaults; a
// profile may override maxmsg, maxsecs and minsecs per mailbox (mailbox-maxmsg, ...).
type Voicemail struct {
	// Dir is the mailbox store's directory. Key: dir. Default "": /var/lib/sidecar/voicemail
	// when it can be created and written, else voicemail under the user's state directory
	// ($XDG_STATE_HOME/sidecar, else ~/.local/state/sidecar), so that a non-root "make run"
	// works; serve logs the one it uses.
	Dir string
	// Store selects a shared mailbox store: a postgres:// (or postgresql://) URL puts the
	// mailboxes in that PostgreSQL database (voicemail/pgstore), shared by every sidecar
	// configured with it; the schema is created and migrated at start. Key: store. Default
	// "": the directory store of Dir.
	Store string
	// MaxMsg is the most messages a folder holds (Asterisk's maxmsg). Key: maxmsg, 0-9999.
	// Default 100.
	MaxMsg int
	// MaxDuration caps a message (maxsecs); 0 means no cap. Key: maxsecs. Default 3m.
	MaxDuration time.Duration
	// MinDuration is the shortest message kept (minsecs). Key: minsecs. Default 0.
	MinDuration time.Duration
	// MaxSilence ends a recording after this much silence (maxsilence); 0 disables the check.
	// Key: maxsilence. Default 10s.
	MaxSilence time.Duration
	// SilenceThreshold is the mean absolute amplitude (16-bit samples) under which a 20 ms
	// frame counts as silence (Asterisk's silencethreshold). Key: silence-threshold, 1-32767.
	// Default 128.
	SilenceThreshold int
	// MaxLoginAttempts is how many wrong PINs VoiceMailMain accepts before it hangs up, and
	// how many in a row lock the mailbox. Key: max-login-attempts, 1-100. Default 3.
	MaxLoginAttempts int
	// Lockout is how long a mailbox refuses every login after MaxLoginAttempts wrong PINs in
	// a row; 0 disables the lockout. Key: lockout. Default 5m.
	Lockout time.Duration
	// Unavailable is VoiceMail's answer while a shared store cannot be reached: "prompt"
	// (answer, say the mailbox is not available, hang up) or "503" (refuse the call with 503
	// and no Retry-After, for a Kamailio failure_route with a next action). Key: unavailable.
	// Default prompt.
	Unavailable string
}

// Default returns the configuration the sidecar runs on with no settings file.
func Default() *Config {
	lo := netip.MustParseAddr("127.0.0.1")
	return &Config{
		General: General{LogLevel: "info", LogFormat: "text"},
		SIP: SIP{
			Listen: []Listen{
				{Transport: "udp", Addr: netip.AddrPortFrom(lo, 5080)},
				{Transport: "tcp", Addr: netip.AddrPortFrom(lo, 5080)},
			},
			Trusted:        TrustList{entries: []trustEntry{{prefix: netip.MustParsePrefix("127.0.0.0/8")}}},
			Untrusted:      "reject",
			Identify:       []string{"header"},
			MaxCalls:       1000,
			DrainGrace:     30 * time.Second,
			MaxQueueDelay:  100 * time.Millisecond,
			NoMatchCode:    403,
			DefaultContext: "default",
			UserAgent:      "sidecar",
			ACKTimeout:     32 * time.Second,
		},
		Identify: Identify{Anonymous: "anonymous"},
		RTP: RTP{
			PortMin:   20000,
			PortMax:   29999,
			Address:   lo,
			Bind:      lo,
			Symmetric: true,
			Timeout:   30 * time.Second,
		},
		CDR: CDR{Queue: 1024},
		Voicemail: Voicemail{
			MaxMsg:           100,
			MaxDuration:      180 * time.Second,
			MaxSilence:       10 * time.Second,
			SilenceThreshold: 128,
			MaxLoginAttempts: 3,
			Lockout:          5 * time.Minute,
			Unavailable:      "prompt",
		},
		MWI:      defaultMWI(),
		Presence: defaultPresence(),
	}
}

// Identifiers returns the names the identify key accepts, in the documented order.
func Identifiers() []string { return []string{"header", "ip", "username", "anonymous"} }
