package request

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/emiago/sipgo/sip"
)

// FromSIP builds the template view of a parsed sipgo request. src is the address the request
// came from (for a network request, SourceOf(req)); transport is "udp", "tcp" or "tls".
//
// The view keeps req and turns a header into text the first time it is asked for (Header,
// Headers, Fields), so req must not be modified once FromSIP has returned: clone it first
// (req.Clone()) to change it. Method, URIs, addresses and Call-ID are copied at once.
func FromSIP(req *sip.Request, src netip.AddrPort, transport string) (*Request, error) {
	if req == nil {
		return nil, fmt.Errorf("request: nil SIP request")
	}
	from, to := req.From(), req.To()
	if from == nil || to == nil {
		return nil, fmt.Errorf("request: %s without From or To", req.Method)
	}
	callID := ""
	if h := req.CallID(); h != nil {
		callID = h.Value()
	}
	hs := req.Headers()
	r := new(Request) // the header cache is made by the first read of a typed header
	r.set(string(req.Method), uriFromSIP(req.Recipient),
		Address{Display: unescapeDisplay(from.DisplayName), URI: uriFromSIP(from.Address), Tag: paramOf(from.Params, "tag")},
		Address{Display: unescapeDisplay(to.DisplayName), URI: uriFromSIP(to.Address), Tag: paramOf(to.Params, "tag")},
		callID, Endpoint{IP: src.Addr().Unmap(), Port: int(src.Port())}, transport)
	r.lazy.on, r.lazy.hs = true, hs
	return r, nil
}

// SourceOf returns the address a network request came from, as its transport recorded it.
// Only that address counts: sipgo's req.Source() falls back to the top Via header, which
// the sender writes, so a request without a transport-set source (one built in memory, or
// a transport that did not set it) is an error, never an address taken from its headers.
func SourceOf(req *sip.Request) (netip.AddrPort, error) {
	if req == nil {
		return netip.AddrPort{}, fmt.Errorf("request: nil SIP request")
	}
	src := req.MessageData.Source()
	if src == "" {
		return netip.AddrPort{}, fmt.Errorf("request: no transport source")
	}
	ap, err := netip.ParseAddrPort(src)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("request: source %q: %w", src, err)
	}
	return ap, nil
}

func uriFromSIP(u sip.Uri) URI {
	out := URI{Scheme: strings.ToLower(u.Scheme), User: u.User, Host: strings.Trim(u.Host, "[]"), Port: u.Port}
	if out.Scheme == "" {
		out.Scheme = "sip"
	}
	if u.UriParams != nil && u.UriParams.Length() > 0 {
		out.Params = make(map[string]string, u.UriParams.Length())
		for _, kv := range u.UriParams {
			out.Params[strings.ToLower(kv.K)] = kv.V
		}
	}
	return out
}

func paramOf(p sip.HeaderParams, key string) string {
	if p == nil {
		return ""
	}
	v, _ := p.Get(key)
	return v
}

// unescapeDisplay undoes the backslash escapes of a quoted display name, which sipgo keeps
// (`"Bob \"B\""` gives `Bob \"B\"`), so Display is the name itself: `Bob "B"`.
func unescapeDisplay(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
