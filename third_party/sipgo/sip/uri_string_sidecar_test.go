package sip

// sidecar patch test: Uri.String and StringWrite write the IPv6 brackets, the port and the
// parameters to the buffer (String's builder grown once): the same text as upstream's,
// with fewer allocations.

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
)

// upstreamUriString is v1.7.4's Uri.StringWrite, for comparison.
func upstreamUriString(uri *Uri) string {
	var buffer strings.Builder
	scheme := uri.Scheme
	if uri.Scheme == "" {
		scheme = "sip"
	}
	buffer.WriteString(scheme)
	buffer.WriteString(":")
	if uri.raw != "" {
		buffer.WriteString(uri.raw)
		return buffer.String()
	}
	if uri.HierarhicalSlashes {
		buffer.WriteString("//")
	}
	if uri.User != "" {
		buffer.WriteString(uri.User)
		if uri.Password != "" {
			buffer.WriteString(":")
			buffer.WriteString(uri.Password)
		}
		buffer.WriteString("@")
	}
	buffer.WriteString(uriIP(uri.Host))
	if uri.Port > 0 {
		buffer.WriteString(":")
		buffer.WriteString(strconv.Itoa(uri.Port))
	}
	if (uri.UriParams != nil) && uri.UriParams.Length() > 0 {
		buffer.WriteString(";")
		buffer.WriteString(uri.UriParams.ToString(';'))
	}
	if (uri.Headers != nil) && uri.Headers.Length() > 0 {
		buffer.WriteString("?")
		buffer.WriteString(uri.Headers.ToString('&'))
	}
	return buffer.String()
}

func TestUriStringSidecar(t *testing.T) {
	for _, text := range []string{
		"sip:alice@127.0.0.1:5060;transport=udp",
		"sip:127.0.0.1",
		"sips:bob:secret@example.com:5061;lr;transport=tls?subject=hi&priority=urgent",
		"sip:[2001:db8::1]:5070;maddr=\"a b\"",
		"sip:user@host:65535;x",
		"tel:+1-201-555-0123",
		"urn:service:sos",
	} {
		var u Uri
		if err := ParseUri(text, &u); err != nil {
			t.Fatalf("parse %q: %v", text, err)
		}
		want := upstreamUriString(&u)
		if got := u.String(); got != want {
			t.Errorf("String of %q: %q, upstream %q", text, got, want)
		}
		var b bytes.Buffer
		u.StringWrite(&b)
		if b.String() != want {
			t.Errorf("StringWrite of %q: %q, upstream %q", text, b.String(), want)
		}
	}
	// No scheme, hierarchical slashes.
	u := Uri{Host: "h", Port: 7, HierarhicalSlashes: true, UriParams: HeaderParams{{K: "a", V: "1"}}}
	if got, want := u.String(), upstreamUriString(&u); got != want {
		t.Errorf("String: %q, upstream %q", got, want)
	}
}

func TestUriStringAllocsSidecar(t *testing.T) {
	var u Uri
	if err := ParseUri("sip:alice@127.0.0.1:5060;transport=udp;lr", &u); err != nil {
		t.Fatal(err)
	}
	// Upstream: the builder grown 3 times, the port's string, the parameters' string.
	if n := testing.AllocsPerRun(100, func() { _ = u.String() }); n > 1 {
		t.Errorf("Uri.String: %.0f allocations, want 1", n)
	}
	var b bytes.Buffer
	b.Grow(256)
	if n := testing.AllocsPerRun(100, func() {
		b.Reset()
		u.StringWrite(&b)
	}); n > 0 {
		t.Errorf("Uri.StringWrite to a bytes.Buffer with room: %.0f allocations, want 0", n)
	}
}
