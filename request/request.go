// Package request is the typed, transport-neutral view of one SIP request that templates,
// identifiers and the dialplan read. It is the "template data" of the product: every field and
// method here is part of the documented template language (docs/templates.md), so names are
// chosen for the operator who writes {{ .From.User }}, not for the SIP stack.
//
// A Request is immutable once built and safe to share between goroutines. Header values are
// data: nothing in this package ever parses or executes them as templates. A Request built by
// FromSIP turns a header into text on first use (most calls read one or two of a dozen
// headers) and keeps it; the answers are those of an eager copy.
package request

import (
	"net/netip"
	"strconv"
	"strings"
)

// Request is one SIP request as templates see it.
type Request struct {
	// Method is the SIP method in upper case, for example "INVITE".
	Method string
	// RURI is the Request-URI (the seed's Request-URI-Username is .RURI.User).
	RURI URI
	// From and To are the From and To headers (the seed's From-Header-URI-Username is .From.User).
	From, To Address
	// CallID is the Call-ID header value.
	CallID string
	// Source is the address the request arrived from (the seed's Source-IP and Source-Port).
	Source Endpoint
	// Transport is "udp", "tcp" or "tls" (the seed's Transport-Protocol).
	Transport string

	headers []Field    // built by New: eager
	lazy    sipHeaders // built by FromSIP: values read from the sipgo request on first use
}

// Field is one header line: its name as received and its value.
type Field struct {
	Name, Value string
}

// URI is a SIP or SIPS URI.
type URI struct {
	// Scheme is "sip", "sips" or "tel".
	Scheme string
	// User is the user part, "" when absent.
	User string
	// Host is the host part: a domain name or an IP address (IPv6 without brackets).
	Host string
	// Port is the explicit port, 0 when absent.
	Port int
	// Params holds the URI parameters (";transport=tcp") in lower-case keys; a flag parameter
	// has an empty value.
	Params map[string]string
}

// String formats the URI as scheme:user@host:port;params, bracketing IPv6 hosts.
// Parameters are written in sorted key order so the output is stable.
func (u URI) String() string {
	if u.Scheme == "" && u.Host == "" {
		return ""
	}
	var b strings.Builder
	b.WriteString(u.Scheme)
	b.WriteByte(':')
	if u.User != "" {
		b.WriteString(u.User)
		b.WriteByte('@')
	}
	b.WriteString(hostLiteral(u.Host))
	if u.Port != 0 {
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(u.Port))
	}
	for _, k := range sortedKeys(u.Params) {
		b.WriteByte(';')
		b.WriteString(k)
		if v := u.Params[k]; v != "" {
			b.WriteByte('=')
			b.WriteString(v)
		}
	}
	return b.String()
}

// Param returns the URI parameter key (case-insensitive), or "" when absent.
func (u URI) Param(key string) string { return u.Params[strings.ToLower(key)] }

// Address is a name-addr header such as From or To.
type Address struct {
	// Display is the display name without quotes, "" when absent.
	Display string
	// URI is the address's URI.
	URI URI
	// Tag is the tag parameter, "" when absent.
	Tag string
	// User and Host repeat URI.User and URI.Host so templates can write {{ .From.User }}.
	User, Host string
}

// Endpoint is a transport address.
type Endpoint struct {
	IP   netip.Addr
	Port int
}

// String formats the endpoint as ip:port, bracketing IPv6 addresses.
func (e Endpoint) String() string {
	if !e.IP.IsValid() {
		return ""
	}
	return netip.AddrPortFrom(e.IP, uint16(e.Port)).String()
}

// HostPort is String under the name templates expect when building a URI host part.
func (e Endpoint) HostPort() string { return e.String() }

// Header returns the first value of the named header, or "" when the request has none.
// Names are matched case-insensitively and compact forms match their long names
// (f = From, t = To, i = Call-ID, m = Contact, ...).
func (r *Request) Header(name string) string {
	name = longName(name)
	if r.lazy.on {
		return r.lazy.header(name)
	}
	for _, f := range r.headers {
		if sameHeader(f.Name, name) {
			return f.Value
		}
	}
	return ""
}

// Headers returns every value of the named header in the order received, nil when none.
func (r *Request) Headers(name string) []string {
	name = longName(name)
	if r.lazy.on {
		return r.lazy.all(name)
	}
	var out []string
	for _, f := range r.headers {
		if sameHeader(f.Name, name) {
			out = append(out, f.Value)
		}
	}
	return out
}

// HeaderCount returns how many times r carries the named header: len(r.Headers(name))
// without making the values (identifiers check that a header is not repeated). A function,
// not a method: it is not part of the template language.
func HeaderCount(r *Request, name string) int {
	name = longName(name)
	n := 0
	if r.lazy.on {
		for _, h := range r.lazy.hs {
			if sameHeader(h.Name(), name) {
				n++
			}
		}
		return n
	}
	for _, f := range r.headers {
		if sameHeader(f.Name, name) {
			n++
		}
	}
	return n
}

// HasHeader reports whether the request carries the named header at all, even empty.
func (r *Request) HasHeader(name string) bool {
	name = longName(name)
	if r.lazy.on {
		return r.lazy.has(name)
	}
	for _, f := range r.headers {
		if sameHeader(f.Name, name) {
			return true
		}
	}
	return false
}

// Fields returns a copy of all header lines in the order received.
func (r *Request) Fields() []Field {
	if r.lazy.on {
		return r.lazy.fields()
	}
	return append([]Field(nil), r.headers...)
}

// New builds a Request from its parts; headers are copied. It derives From.User/Host and
// To.User/Host from their URIs.
func New(method string, ruri URI, from, to Address, callID string, src Endpoint, transport string, headers []Field) *Request {
	r := new(Request)
	r.set(method, ruri, from, to, callID, src, transport)
	r.headers = append([]Field(nil), headers...)
	return r
}

// set fills r's exported fields as New documents (FromSIP fills a Request it allocated
// together with its header cache).
func (r *Request) set(method string, ruri URI, from, to Address, callID string, src Endpoint, transport string) {
	from.User, from.Host = from.URI.User, from.URI.Host
	to.User, to.Host = to.URI.User, to.URI.Host
	r.Method = strings.ToUpper(method)
	r.RURI, r.From, r.To, r.CallID, r.Source = ruri, from, to, callID, src
	r.Transport = strings.ToLower(transport)
}

var compact = map[string]string{
	"f": "from", "t": "to", "i": "call-id", "m": "contact", "v": "via", "l": "content-length",
	"c": "content-type", "e": "content-encoding", "k": "supported", "s": "subject",
	"o": "event", "u": "allow-events", "r": "refer-to", "b": "referred-by", "x": "session-expires",
}

// longName trims a header name and expands a compact form (f, t, i, ...) to its long name.
// It does not allocate: header lookups run on every template expansion.
func longName(name string) string {
	name = strings.TrimSpace(name)
	if len(name) == 1 {
		if long, ok := compact[string(name[0]|0x20)]; ok {
			return long
		}
	}
	return name
}

// sameHeader reports whether the header name as received names want (already longName'd),
// case-insensitively.
func sameHeader(received, want string) bool {
	return strings.EqualFold(longName(received), want)
}

func hostLiteral(h string) string {
	if strings.Contains(h, ":") && !strings.HasPrefix(h, "[") {
		return "[" + h + "]"
	}
	return h
}

func sortedKeys(m map[string]string) []string {
	if len(m) == 0 {
		return nil
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	// insertion sort: parameter lists are tiny
	for i := 1; i < len(keys); i++ {
		for j := i; j > 0 && keys[j] < keys[j-1]; j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
		}
	}
	return keys
}
