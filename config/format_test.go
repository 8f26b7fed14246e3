package config

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestFormatCoversEveryKey(t *testing.T) {
	c := Default()
	for _, k := range keySpecs() {
		if _, ok := c.formatKey(k.section, k.name); !ok {
			t.Errorf("Format does not write [%s] %s", k.section, k.name)
		}
	}
}

// TestFormatRoundTrip checks Parse(Format(c)) == c for the default and for a Config with
// every key changed.
func TestFormatRoundTrip(t *testing.T) {
	all := Default()
	all.General = General{Templates: "/etc/sidecar t", LogLevel: "debug", LogFormat: "json"}
	all.SIP.Listen = []Listen{{"udp", netip.MustParseAddrPort("192.0.2.10:5080")}, {"tls", netip.MustParseAddrPort("[2001:db8::1]:5061")}}
	all.SIP.Trusted = MustParseTrustList("10.0.0.0/8, [2001:db8::1]:5060, 192.0.2.7:5060")
	all.SIP.Untrusted = "drop"
	all.SIP.Identify = []string{"ip", "header", "username", "anonymous"}
	all.SIP.MaxCalls = 5
	all.SIP.DrainGrace = 0
	all.SIP.NoMatchCode = 404
	all.SIP.DefaultContext = "from-kamailio"
	all.SIP.TLSCert, all.SIP.TLSKey = "/c.pem", "/k.pem"
	all.SIP.UserAgent = `say "hi" ; really `
	all.SIP.ACKTimeout = 1500_000_000
	all.Identify.IP = []IPRule{{Prefix: netip.MustParsePrefix("192.0.2.0/24"), Template: "trunk"}, {Prefix: netip.MustParsePrefix("192.0.2.7/32"), Port: 5060, Template: "a"}}
	all.Identify.Anonymous = "guest"
	all.Identify.Username = "user-"
	all.RTP = RTP{PortMin: 10000, PortMax: 10001, Address: netip.MustParseAddr("2001:db8::9"), Bind: netip.MustParseAddr("::"), Timeout: 0, Sounds: "/s"}
	all.Admin.Listen = netip.MustParseAddrPort("0.0.0.0:0")
	all.Admin.AllowRemote = true
	all.Voicemail = Voicemail{Dir: "/var/spool/vm", MaxMsg: 5, MaxDuration: 30_000_000_000, MinDuration: 2_000_000_000, SilenceThreshold: 300, MaxLoginAttempts: 5, Lockout: 0, Unavailable: "503"}
	all.Admin.Token = "0123456789abcdef"
	all.Admin.PushDir = "/var/lib/sidecar/pushed"
	if err := all.Validate(); err != nil {
		t.Fatalf("test Config is invalid: %v", err)
	}
	for name, c := range map[string]*Config{"default": Default(), "all": all} {
		text := c.Format()
		got, err := Parse("formatted.ini", text)
		if err != nil {
			t.Fatalf("%s: Parse(Format()): %v\n%s", name, err, text)
		}
		if d := cmp.Diff(c, got, cmpOpts); d != "" {
			t.Errorf("%s: round trip differs (-want +got):\n%s\n%s", name, d, text)
		}
	}
}

// The store URL's password reaches neither the formatted settings nor an error.
func TestStorePasswordHidden(t *testing.T) {
	c := Default()
	c.Voicemail.Store = "postgres://sidecar:s3cret@db:5432/vm?sslmode=disable"
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if out := string(c.Format()); strings.Contains(out, "s3cret") || !strings.Contains(out, "store = postgres://sidecar:xxxxx@db:5432/vm") {
		t.Fatalf("formatted:\n%s", out)
	}
	for _, bad := range []string{"postgres://u:s3cret@db:x/y", "mysql://u:s3cret@db/y"} {
		_, err := Parse("sidecar.ini", []byte("[voicemail]\nstore = "+bad+"\n"))
		if err == nil || strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%s: %v", bad, err)
		}
	}
}
