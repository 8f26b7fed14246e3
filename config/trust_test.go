package config

import (
	"net/netip"
	"strings"
	"testing"
)

func TestTrustListAllows(t *testing.T) {
	list := MustParseTrustList("127.0.0.1, 10.0.0.0/8, 192.0.2.7:5060, [2001:db8::1]:5060, 2001:db8:aa::/48, ::ffff:198.51.100.0/120")
	tests := []struct {
		src  string
		want bool
	}{
		{"127.0.0.1:5060", true},
		{"127.0.0.2:5060", false},
		{"10.1.2.3:1", true},
		{"11.0.0.1:5060", false},
		{"192.0.2.7:5060", true},
		{"192.0.2.7:5061", false},
		{"[2001:db8::1]:5060", true},
		{"[2001:db8::1]:5070", false},
		{"[2001:db8:aa::9]:1234", true},
		{"[2001:db8:ab::9]:1234", false},
		{"[::ffff:10.0.0.5]:5060", true},  // IPv4-mapped source is matched as IPv4
		{"[::ffff:192.0.2.7]:5060", true}, // ... with its port
		{"198.51.100.200:5060", true},     // IPv4-mapped entry is stored as IPv4
		{"[fe80::1%eth0]:5060", false},
	}
	for _, tt := range tests {
		if got := list.Allows(netip.MustParseAddrPort(tt.src)); got != tt.want {
			t.Errorf("Allows(%s) = %v, want %v", tt.src, got, tt.want)
		}
	}
	if (TrustList{}).Allows(netip.MustParseAddrPort("127.0.0.1:1")) {
		t.Error("the zero TrustList trusts a source")
	}
}

func TestTrustListString(t *testing.T) {
	in := "127.0.0.1, 10.0.0.0/8, 192.0.2.7:5060, [2001:db8::1]:5060, 2001:db8::/32, [::ffff:192.0.2.9], ::1"
	want := "127.0.0.1, 10.0.0.0/8, 192.0.2.7:5060, [2001:db8::1]:5060, 2001:db8::/32, 192.0.2.9, ::1"
	list := MustParseTrustList(in)
	if got := list.String(); got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	again := MustParseTrustList(list.String())
	if again.String() != want {
		t.Errorf("String does not round-trip: %q", again.String())
	}
	if list.Len() != 7 {
		t.Errorf("Len() = %d, want 7", list.Len())
	}
}

func TestParseTrustListErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "empty"},
		{" , ", "empty"},
		{"10.0.0.1/8", "has host bits set; did you mean 10.0.0.0/8?"},
		{"10.0.0.0/33", "is not a valid CIDR"},
		{"kamailio.local", "is a host name"},
		{"10.0.0.0/8:5060", "a network takes no port"},
		{"fe80::1%eth0", "zoned addresses are not supported"},
		{"1.2.3.4:0", "port 0 never matches"},
		{"1.2.3.4, 1.2.3.4", "listed twice"},
		{"1.2.3", "is not an IP address or CIDR"},
	}
	for _, tt := range tests {
		_, err := ParseTrustList(tt.in)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseTrustList(%q) = %v, want error containing %q", tt.in, err, tt.want)
		}
	}
}

func TestListenString(t *testing.T) {
	ls, err := ParseListen("UDP:127.0.0.1:5080, tls:[::1]:5061")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range ls {
		got = append(got, l.String())
	}
	if want := "udp:127.0.0.1:5080 tls:[::1]:5061"; strings.Join(got, " ") != want {
		t.Errorf("got %q, want %q", strings.Join(got, " "), want)
	}
}
