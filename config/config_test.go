package config

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// cmpOpts compares Configs: netip values by ==, TrustList by its entries.
var cmpOpts = cmp.Options{
	cmp.Comparer(func(a, b netip.Addr) bool { return a == b }),
	cmp.Comparer(func(a, b netip.AddrPort) bool { return a == b }),
	cmp.Comparer(func(a, b netip.Prefix) bool { return a == b }),
	cmp.Comparer(func(a, b TrustList) bool { return a.String() == b.String() }),
}

func TestDefaultIsValid(t *testing.T) {
	if err := Default().Validate(); err != nil {
		t.Fatalf("Default().Validate() = %v", err)
	}
}

func TestParseEmptyIsDefault(t *testing.T) {
	for _, text := range []string{"", "; only a comment\n", "[general]\n[sip]\n"} {
		c, err := Parse("sidecar.ini", []byte(text))
		if err != nil {
			t.Fatalf("Parse(%q): %v", text, err)
		}
		if d := cmp.Diff(Default(), c, cmpOpts); d != "" {
			t.Errorf("Parse(%q) differs from Default() (-want +got):\n%s", text, d)
		}
	}
}

// TestParseKeys sets every key and checks the field it sets.
func TestParseKeys(t *testing.T) {
	lo := netip.MustParseAddr("127.0.0.1")
	tests := []struct {
		name string
		text string
		want func(c *Config)
	}{
		{"templates", "[general]\ntemplates = /etc/sidecar/t\n", func(c *Config) { c.General.Templates = "/etc/sidecar/t" }},
		{"log-level", "[general]\nlog-level = DEBUG\n", func(c *Config) { c.General.LogLevel = "debug" }},
		{"log-format", "[general]\nlog-format = json\n", func(c *Config) { c.General.LogFormat = "json" }},
		{"listen", "[sip]\nlisten = udp:192.0.2.10:5080, tcp:[2001:db8::1]:5080, tls:[::ffff:192.0.2.10]:5061\ntls-cert = c.pem\ntls-key = k.pem\n", func(c *Config) {
			c.SIP.Listen = []Listen{
				{"udp", netip.MustParseAddrPort("192.0.2.10:5080")},
				{"tcp", netip.MustParseAddrPort("[2001:db8::1]:5080")},
				{"tls", netip.MustParseAddrPort("192.0.2.10:5061")},
			}
			c.SIP.TLSCert, c.SIP.TLSKey = "c.pem", "k.pem"
			c.RTP.Address = netip.MustParseAddr("192.0.2.10")
			c.RTP.Bind = c.RTP.Address
		}},
		{"listen wildcard first", "[sip]\nlisten = udp:0.0.0.0:5080, udp:192.0.2.10:5081\n", func(c *Config) {
			c.SIP.Listen = []Listen{{"udp", netip.MustParseAddrPort("0.0.0.0:5080")}, {"udp", netip.MustParseAddrPort("192.0.2.10:5081")}}
			c.RTP.Address = netip.MustParseAddr("192.0.2.10")
			c.RTP.Bind = c.RTP.Address
		}},
		{"listen port 0", "[sip]\nlisten = udp:127.0.0.1:0, tcp:127.0.0.1:0\n", func(c *Config) {
			c.SIP.Listen = []Listen{{"udp", netip.MustParseAddrPort("127.0.0.1:0")}, {"tcp", netip.MustParseAddrPort("127.0.0.1:0")}}
		}},
		{"trusted", "[sip]\ntrusted = 127.0.0.1, 10.0.0.0/8, 192.0.2.7:5060, [2001:db8::1]:5060, 2001:db8::/32\n", func(c *Config) {
			c.SIP.Trusted = MustParseTrustList("127.0.0.1, 10.0.0.0/8, 192.0.2.7:5060, [2001:db8::1]:5060, 2001:db8::/32")
		}},
		{"untrusted", "[sip]\nuntrusted = drop\n", func(c *Config) { c.SIP.Untrusted = "drop" }},
		{"identify", "[sip]\nidentify = Header, ip, username, anonymous\n[identify]\nip = 192.0.2.0/24 => trunk\n", func(c *Config) {
			c.SIP.Identify = []string{"header", "ip", "username", "anonymous"}
			c.Identify.IP = []IPRule{{Prefix: netip.MustParsePrefix("192.0.2.0/24"), Template: "trunk"}}
		}},
		{"max-calls", "[sip]\nmax-calls = 20\n", func(c *Config) { c.SIP.MaxCalls = 20 }},
		{"drain-grace", "[sip]\ndrain-grace = 1m30s\n", func(c *Config) { c.SIP.DrainGrace = 90 * time.Second }},
		{"drain-grace zero", "[sip]\ndrain-grace = 0\n", func(c *Config) { c.SIP.DrainGrace = 0 }},
		{"no-match", "[sip]\nno-match = 404\n", func(c *Config) { c.SIP.NoMatchCode = 404 }},
		{"default-context", "[sip]\ndefault-context = from-kamailio\n", func(c *Config) { c.SIP.DefaultContext = "from-kamailio" }},
		{"tls-cert and tls-key", "[sip]\ntls-cert = /a/c.pem\ntls-key = /a/k.pem\n", func(c *Config) { c.SIP.TLSCert, c.SIP.TLSKey = "/a/c.pem", "/a/k.pem" }},
		{"user-agent", "[sip]\nuser-agent = sidecar/1.0 (lab)\n", func(c *Config) { c.SIP.UserAgent = "sidecar/1.0 (lab)" }},
		{"user-agent empty", "[sip]\nuser-agent =\n", func(c *Config) { c.SIP.UserAgent = "" }},
		{"ack-timeout", "[sip]\nack-timeout = 10s\n", func(c *Config) { c.SIP.ACKTimeout = 10 * time.Second }},
		{"ip repeated in order", "[sip]\nidentify = ip\n[identify]\nip = 192.0.2.0/24 => trunk\nip = 192.0.2.7:5060 => carrier-a ; comment\nip = [2001:db8::1]:5060 => v6\nip = 2001:db8::/32 => trunk\n", func(c *Config) {
			c.SIP.Identify = []string{"ip"}
			c.Identify.IP = []IPRule{
				{Prefix: netip.MustParsePrefix("192.0.2.0/24"), Template: "trunk"},
				{Prefix: netip.MustParsePrefix("192.0.2.7/32"), Port: 5060, Template: "carrier-a"},
				{Prefix: netip.MustParsePrefix("2001:db8::1/128"), Port: 5060, Template: "v6"},
				{Prefix: netip.MustParsePrefix("2001:db8::/32"), Template: "trunk"},
			}
		}},
		{"anonymous", "[identify]\nanonymous = guest\n", func(c *Config) { c.Identify.Anonymous = "guest" }},
		{"username-prefix", "[identify]\nusername-prefix = user-\n", func(c *Config) { c.Identify.Username = "user-" }},
		{"ports", "[rtp]\nports = 10000-10099\n", func(c *Config) { c.RTP.PortMin, c.RTP.PortMax = 10000, 10099 }},
		{"address", "[rtp]\naddress = 198.51.100.10\n", func(c *Config) {
			c.RTP.Address = netip.MustParseAddr("198.51.100.10")
			c.RTP.Bind = c.RTP.Address
		}},
		{"address and bind", "[rtp]\naddress = 198.51.100.10\nbind = 0.0.0.0\n", func(c *Config) {
			c.RTP.Address = netip.MustParseAddr("198.51.100.10")
			c.RTP.Bind = netip.MustParseAddr("0.0.0.0")
		}},
		{"bind alone", "[rtp]\nbind = 0.0.0.0\n", func(c *Config) { c.RTP.Address, c.RTP.Bind = lo, netip.MustParseAddr("0.0.0.0") }},
		{"symmetric", "[rtp]\nsymmetric = off\n", func(c *Config) { c.RTP.Symmetric = false }},
		{"timeout", "[rtp]\ntimeout = 0\n", func(c *Config) { c.RTP.Timeout = 0 }},
		{"sounds", "[rtp]\nsounds = /usr/share/sounds\n", func(c *Config) { c.RTP.Sounds = "/usr/share/sounds" }},
		{"admin listen", "[admin]\nlisten = 127.0.0.1:0\n", func(c *Config) { c.Admin.Listen = netip.MustParseAddrPort("127.0.0.1:0") }},
		{"cdr file", "[cdr]\npath = /var/log/sidecar/calls.json\nqueue = 10\n", func(c *Config) { c.CDR = CDR{Path: "/var/log/sidecar/calls.json", Queue: 10} }},
		{"cdr stdout", "[cdr]\npath = -\n", func(c *Config) { c.CDR.Path = "-" }},

		{"admin remote", "[admin]\nlisten = 0.0.0.0:8080\nallow-remote = yes\ntoken = 0123456789abcdef\n", func(c *Config) {
			c.Admin.Listen = netip.MustParseAddrPort("0.0.0.0:8080")
			c.Admin.AllowRemote = true
			c.Admin.Token = "0123456789abcdef"
		}},
		{"admin loopback token", "[admin]\nlisten = 127.0.0.1:0\ntoken = 0123456789abcdef\n", func(c *Config) {
			c.Admin.Listen = netip.MustParseAddrPort("127.0.0.1:0")
			c.Admin.Token = "0123456789abcdef"
		}},
		{"push-dir", "[admin]\npush-dir = /var/lib/sidecar/pushed\n", func(c *Config) { c.Admin.PushDir = "/var/lib/sidecar/pushed" }},
		{"case-insensitive names", "[SIP]\nMax-Calls = 5\n", func(c *Config) { c.SIP.MaxCalls = 5 }},
		{"quoted value", "[sip]\nuser-agent = \"sidecar ; lab\"\n", func(c *Config) { c.SIP.UserAgent = "sidecar ; lab" }},
		{"semicolon inside value", "[sip]\nuser-agent = a;b\n", func(c *Config) { c.SIP.UserAgent = "a;b" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse("sidecar.ini", []byte(tt.text))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			want := Default()
			tt.want(want)
			if d := cmp.Diff(want, got, cmpOpts); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

// TestParseErrors checks that every bad key is reported with file, line, section, key and
// the bad value, and that all problems are reported at once.
func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		text string
		want []string // substrings of the error, in order of appearance
		is   error
	}{
		{"syntax", "[sip]\nlisten udp:127.0.0.1:5080\n", []string{`sidecar.ini:2: syntax error: "listen udp:127.0.0.1:5080" is not "key = value"`}, ErrSyntax},
		{"bad section line", "[sip\n", []string{`sidecar.ini:1: syntax error: "[sip" is not a [section] line`}, ErrSyntax},
		{"key outside section", "listen = udp:127.0.0.1:5080\n", []string{`sidecar.ini:1: listen: outside any section`}, nil},
		{"unknown section", "[sipp]\nlisten = x\n", []string{`sidecar.ini:1: [sipp]: unknown section [sipp]; did you mean [sip]?`}, ErrUnknownSection},
		{"unknown section far", "[database]\n", []string{`unknown section [database] (sections: general, sip, identify, rtp, admin, cdr, voicemail, mwi, presence)`}, ErrUnknownSection},
		{"voicemail minsecs over maxsecs", "[voicemail]\nmaxsecs = 10s\nminsecs = 20s\n", []string{`sidecar.ini:3: [voicemail] minsecs: 20s is over maxsecs 10s`}, nil},
		{"voicemail store scheme", "[voicemail]\nstore = mysql://u:secret@db/x\n", []string{`sidecar.ini:2: [voicemail] store: "mysql://u:xxxxx@db/x": want a postgres:// URL`}, nil},
		{"voicemail store url", "[voicemail]\nstore = postgres://u:secret@db:x/y\n", []string{`sidecar.ini:2: [voicemail] store: "(a malformed URL, not shown)" is not a URL`}, nil},
		{"voicemail unavailable", "[voicemail]\nunavailable = hang\n", []string{`sidecar.ini:2: [voicemail] unavailable: "hang" is not one of prompt, 503`}, nil},
		{"voicemail attempts", "[voicemail]\nmax-login-attempts = 0\n", []string{`sidecar.ini:2: [voicemail] max-login-attempts: 0 is outside 1-100`}, nil},
		{"voicemail maxsecs unit", "[voicemail]\nmaxsecs = 180\n", []string{`sidecar.ini:2: [voicemail] maxsecs: "180" has no unit; write 180s`}, nil},
		{"unknown key typo", "[sip]\n\nmax_calls = 3\n", []string{`sidecar.ini:3: [sip] max_calls: unknown key "max_calls"; did you mean max-calls?`}, ErrUnknownKey},
		{"unknown key typo 2", "[sip]\nlisen = udp:127.0.0.1:5080\n", []string{`[sip] lisen: unknown key "lisen"; did you mean listen?`}, ErrUnknownKey},
		{"key in wrong section", "[sip]\ntemplates = /x\n", []string{`[sip] templates: unknown key "templates"; it belongs in [general]`}, ErrUnknownKey},
		{"unknown key far", "[rtp]\ncolour = blue\n", []string{`[rtp] colour: unknown key "colour" (keys of [rtp]: ports, address, bind, symmetric, timeout, sounds)`}, ErrUnknownKey},
		{"duplicate key", "[sip]\nmax-calls = 3\nmax-calls = 4\n", []string{`sidecar.ini:3: [sip] max-calls: duplicate key: also set on line 2`}, ErrDuplicateKey},
		{"duplicate key across repeated section", "[sip]\nmax-calls = 3\n[rtp]\n[sip]\nmax-calls = 3\n", []string{`sidecar.ini:5: [sip] max-calls: duplicate key`}, ErrDuplicateKey},
		{"log-level", "[general]\nlog-level = loud\n", []string{`sidecar.ini:2: [general] log-level: "loud" is not one of debug, info, warn, error`}, nil},
		{"log-format", "[general]\nlog-format = xml\n", []string{`[general] log-format: "xml" is not one of text, json`}, nil},
		{"listen no port", "[sip]\nlisten = udp:127.0.0.1\n", []string{`sidecar.ini:2: [sip] listen: "udp:127.0.0.1" has no port`}, nil},
		{"listen no transport", "[sip]\nlisten = 127.0.0.1:5080\n", []string{`"127.0.0.1:5080" has no transport; write udp:127.0.0.1:5080`}, nil},
		{"listen bad transport", "[sip]\nlisten = sctp:127.0.0.1:5080\n", []string{`unknown transport "sctp" (one of udp, tcp, tls)`}, nil},
		{"listen host name", "[sip]\nlisten = udp:localhost:5080\n", []string{`"localhost" is a host name; write an IP address`}, nil},
		{"listen ipv6 no brackets", "[sip]\nlisten = udp:2001:db8::1:5080\n", []string{`an IPv6 address needs brackets`}, nil},
		{"listen empty", "[sip]\nlisten =\n", []string{`[sip] listen: empty`}, nil},
		{"listen two bad", "[sip]\nlisten = udp:1.2.3.4, tcp:x\n", []string{`sidecar.ini:2: [sip] listen: "udp:1.2.3.4" has no port`, `sidecar.ini:2: [sip] listen: "tcp:x": "x" is a host name`}, nil},
		{"listen no address", "[sip]\nlisten = udp:\n", []string{`[sip] listen: "udp:" has no address`}, nil},
		{"listen no colon", "[sip]\nlisten = udp\n", []string{`[sip] listen: "udp" is not transport:ip:port`}, nil},
		{"listen bare ip", "[sip]\nlisten = 127.0.0.1\n", []string{`"127.0.0.1" has no transport and no port; write udp:127.0.0.1:5080`}, nil},
		{"listen ipv6 no port", "[sip]\nlisten = tcp:[::1]\n", []string{`"tcp:[::1]" has no port`}, nil},
		{"listen zoned", "[sip]\nlisten = udp:[fe80::1%eth0]:5080\n", []string{`zoned addresses are not supported`}, nil},
		{"listen twice", "[sip]\nlisten = udp:127.0.0.1:5080, udp:127.0.0.1:5080\n", []string{`[sip] listen: "udp:127.0.0.1:5080" is listed twice`}, nil},
		{"listen tcp and tls clash", "[sip]\nlisten = tcp:127.0.0.1:5080, tls:127.0.0.1:5080\ntls-cert = c\ntls-key = k\n", []string{`both need TCP port 5080`}, nil},
		{"trusted bad", "[sip]\ntrusted = 10.0.0.1/8, example.com, 10.0.0.0/8:5060, 2001:db8::1]:5060\n", []string{
			`sidecar.ini:2: [sip] trusted: "10.0.0.1/8" has host bits set; did you mean 10.0.0.0/8?`,
			`"example.com" is a host name`, `sidecar.ini:2: [sip] trusted: "10.0.0.0/8:5060": a network takes no port`, `"2001:db8::1]:5060" is not an IP address`}, nil},
		{"trusted empty", "[sip]\ntrusted =\n", []string{`[sip] trusted: empty`}, nil},
		{"trusted duplicate", "[sip]\ntrusted = 10.0.0.1, 10.0.0.1\n", []string{`"10.0.0.1" is listed twice`}, nil},
		{"trusted port 0", "[sip]\ntrusted = 10.0.0.1:0\n", []string{`port 0 never matches`}, nil},
		{"untrusted", "[sip]\nuntrusted = ignore\n", []string{`[sip] untrusted: "ignore" is not one of reject, drop`}, nil},
		{"identify unknown", "[sip]\nidentify = header, usrname\n", []string{`sidecar.ini:2: [sip] identify: unknown identifier "usrname"; did you mean username?`}, nil},
		{"identify duplicate", "[sip]\nidentify = header, header\n", []string{`[sip] identify: header is listed twice`}, nil},
		{"identify anonymous not last", "[sip]\nidentify = anonymous, header\n", []string{`anonymous always matches, so it must come last; header after it would never run`}, nil},
		{"identify empty", "[sip]\nidentify =\n", []string{`[sip] identify: empty`}, nil},
		{"identify ip without rules", "[sip]\nidentify = ip\n", []string{`[sip] identify: ip is listed but [identify] has no ip rules`}, nil},
		{"max-calls word", "[sip]\nmax-calls = many\n", []string{`[sip] max-calls: "many" is not a whole number`}, nil},
		{"max-calls zero", "[sip]\nmax-calls = 0\n", []string{`sidecar.ini:2: [sip] max-calls: 0 is outside 1-1000000`}, nil},
		{"drain-grace no unit", "[sip]\ndrain-grace = 30\n", []string{`[sip] drain-grace: "30" has no unit; write 30s`}, nil},
		{"drain-grace negative", "[sip]\ndrain-grace = -1s\n", []string{`"-1s" is negative`}, nil},
		{"drain-grace huge", "[sip]\ndrain-grace = 2h\n", []string{`[sip] drain-grace: 2h0m0s is outside 0s-1h0m0s`}, nil},
		{"no-match 200", "[sip]\nno-match = 200\n", []string{`[sip] no-match: 200 is not a SIP failure status (400-699)`}, nil},
		{"default-context bad", "[sip]\ndefault-context = my context\n", []string{`[sip] default-context: "my context" is not a valid name`}, nil},
		{"default-context empty", "[sip]\ndefault-context =\n", []string{`[sip] default-context: empty name`}, nil},
		{"tls without cert", "[sip]\nlisten = tls:127.0.0.1:5061\n", []string{`[sip] tls-cert: required by listen tls:127.0.0.1:5061`, `[sip] tls-key: required by listen tls:127.0.0.1:5061`}, nil},
		{"tls-cert without key", "[sip]\ntls-cert = c.pem\n", []string{`[sip] tls-key: tls-cert is set, tls-key is not`}, nil},
		{"user-agent control", "[sip]\nuser-agent = \"a\tb\"\n", []string{`[sip] user-agent: "a\tb" has a character not allowed in a SIP header`}, nil},
		{"ack-timeout zero", "[sip]\nack-timeout = 0\n", []string{`[sip] ack-timeout: 0s: must be above zero`}, nil},
		{"ip no arrow", "[sip]\nidentify = ip\n[identify]\nip = 192.0.2.0/24 trunk\n", []string{`sidecar.ini:4: [identify] ip: "192.0.2.0/24 trunk" is not "ADDRESS => template"`}, nil},
		{"ip no template", "[sip]\nidentify = ip\n[identify]\nip = 192.0.2.0/24 =>\n", []string{`names no template after =>`}, nil},
		{"ip bad template", "[sip]\nidentify = ip\n[identify]\nip = 192.0.2.0/24 => a b\n", []string{`template "a b" is not a valid name`}, nil},
		{"ip bad address on its line", "[sip]\nidentify = ip\n[identify]\nip = 192.0.2.0/24 => a\nip = 300.1.1.1 => b\n", []string{`sidecar.ini:5: [identify] ip: "300.1.1.1" is not an IP address or CIDR`}, nil},
		{"ip empty line", "[sip]\nidentify = ip\n[identify]\nip = 192.0.2.0/24 => a\nip =\n", []string{`sidecar.ini:5: [identify] ip: empty value`}, nil},
		{"ip duplicate source", "[sip]\nidentify = ip\n[identify]\nip = 192.0.2.0/24 => a\nip = 192.0.2.0/24 => b\n", []string{`sidecar.ini:5: [identify] ip: "192.0.2.0/24 => b" has the same source as rule 1 ("192.0.2.0/24 => a"), which always wins`}, nil},
		{"ip not in chain", "[identify]\nip = 192.0.2.0/24 => a\n", []string{`sidecar.ini:2: [identify] ip: rules are written but [sip] identify does not list ip`}, nil},
		{"anonymous bad", "[identify]\nanonymous = [x]\n", []string{`[identify] anonymous: "[x]" is not a valid name`}, nil},
		{"username-prefix bad", "[identify]\nusername-prefix = a b\n", []string{`[identify] username-prefix: "a b" is not a valid template name prefix`}, nil},
		{"ports not a range", "[rtp]\nports = 20000\n", []string{`[rtp] ports: "20000" is not a range MIN-MAX`}, nil},
		{"ports odd", "[rtp]\nports = 20001-29999\n", []string{`sidecar.ini:2: [rtp] ports: 20001-29999: the first port must be even`}, nil},
		{"ports reversed", "[rtp]\nports = 30000-20000\n", []string{`the first port must be below the last`}, nil},
		{"ports low", "[rtp]\nports = 100-200\n", []string{`100-200 is outside 1024-65535`}, nil},
		{"address host", "[rtp]\naddress = media.example.com\n", []string{`[rtp] address: "media.example.com" is a host name`}, nil},
		{"address zoned", "[rtp]\naddress = fe80::1%eth0\n", []string{`[rtp] address: "fe80::1%eth0": zoned addresses are not supported`}, nil},
		{"address multicast", "[rtp]\naddress = 224.0.0.1\n", []string{`[rtp] address: 224.0.0.1 is a multicast address`}, nil},
		{"bind multicast", "[rtp]\nbind = 224.0.0.1\n", []string{`[rtp] bind: 224.0.0.1 is a multicast address`}, nil},
		{"bind not an ip", "[rtp]\nbind = 1.2.3\n", []string{`[rtp] bind: "1.2.3" is not an IP address`}, nil},
		{"ports words", "[rtp]\nports = a-b\n", []string{`[rtp] ports: "a-b" is not a range MIN-MAX`}, nil},
		{"address wildcard", "[rtp]\naddress = 0.0.0.0\n", []string{`[rtp] address: 0.0.0.0 is a wildcard`}, nil},
		{"address from wildcard listen", "[sip]\nlisten = udp:0.0.0.0:5080\n", []string{`[rtp] address: not set, and every [sip] listen address is a wildcard`}, nil},
		{"bind family", "[rtp]\naddress = 192.0.2.1\nbind = ::\n", []string{`sidecar.ini:3: [rtp] bind: :: and address 192.0.2.1 are of different IP versions`}, nil},
		{"symmetric", "[rtp]\nsymmetric = maybe\n", []string{`[rtp] symmetric: "maybe" is not yes or no`}, nil},
		{"timeout", "[rtp]\ntimeout = soon\n", []string{`[rtp] timeout: "soon" is not a duration`}, nil},
		{"admin no port", "[admin]\nlisten = 127.0.0.1\n", []string{`[admin] listen: "127.0.0.1" has no port`}, nil},
		{"admin host", "[admin]\nlisten = localhost:8080\n", []string{`[admin] listen: "localhost:8080": "localhost" is a host name`}, nil},
		{"admin junk", "[admin]\nlisten = 1.2.3:x\n", []string{`[admin] listen: "1.2.3:x" is not ip:port`}, nil},
		{"admin zoned", "[admin]\nlisten = [fe80::1%eth0]:80\n", []string{`zoned addresses are not supported`}, nil},
		{"user-agent long", "[sip]\nuser-agent = " + strings.Repeat("a", 129) + "\n", []string{`is longer than 128 characters`}, nil},
		{"default-context long", "[sip]\ndefault-context = " + strings.Repeat("a", 65) + "\n", []string{`is longer than 64 characters`}, nil},
		{"admin remote", "[admin]\nlisten = 192.0.2.1:8080\n", []string{`sidecar.ini:2: [admin] listen: 192.0.2.1:8080 is not a loopback address; set allow-remote = yes`}, nil},
		{"admin remote no token", "[admin]\nlisten = 192.0.2.1:8080\nallow-remote = yes\n", []string{`sidecar.ini:2: [admin] listen: 192.0.2.1:8080 is not a loopback address: set token (or token-file)`}, nil},
		{"admin short token", "[admin]\ntoken = short\n", []string{`[admin] token: the token must be at least 16 bytes`}, nil},
		{"admin token twice", "[admin]\ntoken = 0123456789abcdef\ntoken-file = /nonexistent\n", []string{`[admin] token-file: set token or token-file, not both`}, nil},
		{"admin token file missing", "[admin]\ntoken-file = /nonexistent/token\n", []string{`[admin] token-file: read token: open /nonexistent/token`}, nil},
		{"cdr queue zero", "[cdr]\nqueue = 0\n", []string{`sidecar.ini:2: [cdr] queue: 0 is outside 1-1048576`}, nil},
		{"cdr queue junk", "[cdr]\nqueue = lots\n", []string{`[cdr] queue:`}, nil},
		{"allow-remote", "[admin]\nallow-remote = sure\n", []string{`[admin] allow-remote: "sure" is not yes or no`}, nil},
		{"several problems at once", "[sip]\nmax-calls = 0\nno-match = 100\n[rtp]\nports = 1-2\n", []string{
			`sidecar.ini:2: [sip] max-calls`, `sidecar.ini:3: [sip] no-match`, `sidecar.ini:5: [rtp] ports`}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse("sidecar.ini", []byte(tt.text))
			if err == nil {
				t.Fatalf("Parse succeeded; want error containing %q", tt.want)
			}
			if c != nil {
				t.Errorf("Parse returned a Config with an error")
			}
			msg := err.Error()
			rest := msg
			for _, w := range tt.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("error %q\ndoes not contain (in order) %q", msg, w)
				}
				rest = rest[i+len(w):]
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.is)
			}
			var ce *Error
			if !errors.As(err, &ce) {
				t.Errorf("error is not a *config.Error: %T", err)
			}
		})
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sidecar.ini")
	if err := os.WriteFile(path, []byte("[sip]\nmax-calls = 7\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if c.SIP.MaxCalls != 7 {
		t.Errorf("MaxCalls = %d, want 7", c.SIP.MaxCalls)
	}

	if err := os.WriteFile(path, []byte("[sip]\nmax-calls = 0\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = Load(path)
	if want := path + ":2: [sip] max-calls: 0 is outside"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("Load error = %v, want it to contain %q", err, want)
	}

	_, err = Load(filepath.Join(dir, "missing.ini"))
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "missing.ini") {
		t.Errorf("Load(missing) = %v, want a not-exist error naming the file", err)
	}
}

// TestValidateCodeBuilt checks Validate on a Config built in code: no file, every problem.
func TestValidateCodeBuilt(t *testing.T) {
	c := Default()
	c.SIP.Trusted = TrustList{}
	c.SIP.Identify = []string{"header", "bogus"}
	c.SIP.MaxCalls = -1
	c.RTP.Address = netip.Addr{}
	c.General.LogLevel = "verbose"
	c.SIP.Listen = []Listen{{Transport: "sctp", Addr: netip.MustParseAddrPort("127.0.0.1:1")}, {}, {Transport: "udp"}}
	c.Identify.IP = []IPRule{
		{Prefix: netip.MustParsePrefix("10.0.0.1/8"), Template: "t"},
		{Template: "t"},
		{Prefix: netip.MustParsePrefix("10.0.0.0/8"), Port: 5060, Template: "t"},
		{Prefix: netip.MustParsePrefix("10.0.0.1/32"), Port: 70000, Template: "t"},
	}
	err := c.Validate()
	if err == nil {
		t.Fatal("Validate succeeded")
	}
	for _, w := range []string{
		`[general] log-level: "verbose" is not one of`,
		`[sip] listen: "sctp:127.0.0.1:1": unknown transport "sctp"`,
		"[sip] listen: empty listener",
		"[sip] listen: listener 3 (udp) has no address",
		"[identify] ip: rule 2 has no address",
		"[identify] ip: 10.0.0.0/8: a network takes no port",
		"[identify] ip: 10.0.0.1/32: port 70000 is outside 1-65535",
		"[sip] trusted: empty",
		`[sip] identify: unknown identifier "bogus"`,
		"[sip] max-calls: -1 is outside",
		"[identify] ip: 10.0.0.1/8 has host bits set",
		"[identify] ip: rules are written but [sip] identify does not list ip",
		"[rtp] address: not set",
	} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("Validate error lacks %q; got:\n%v", w, err)
		}
	}
	if strings.Contains(err.Error(), "sidecar.ini") {
		t.Errorf("a Config built in code has no file name, got %v", err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("[sip]\nlisten = udp:127.0.0.1:5080\ntrusted = 10.0.0.0/8\n"))
	f.Add([]byte("[identify]\nip = 192.0.2.0/24 => trunk\nip = [::1]:5060 => x\n"))
	f.Add([]byte("[rtp]\nports = 20000-20010\naddress = ::1\nbind = ::\n"))
	f.Add([]byte("[admin]\nlisten = 127.0.0.1:0\n"))
	if data, err := os.ReadFile("../examples/sidecar.ini"); err == nil {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("fuzz.ini", data)
		if err != nil {
			if c != nil {
				t.Fatal("a Config returned with an error")
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("Parse accepted a Config that Validate rejects: %v", err)
		}
		again, err := Parse("formatted.ini", c.Format())
		if err != nil {
			t.Fatalf("Parse(Format()) failed: %v\n%s", err, c.Format())
		}
		if d := cmp.Diff(c, again, cmpOpts); d != "" {
			t.Fatalf("Format does not round-trip (-parsed +reparsed):\n%s", d)
		}
	})
}
