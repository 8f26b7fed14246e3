package admin

import (
	"crypto/subtle"
	"encoding/base64"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Access is what the token check decided for one request.
type Access int

// The decisions of Authorize.
const (
	// Allowed: serve the request.
	Allowed Access = iota
	// Unauthorized: a token is needed and the request carries none, or a wrong one (401).
	Unauthorized
	// LoopbackOnly: no token is configured and the client is not on loopback, so the
	// template API (which changes what calls get) refuses it (403).
	LoopbackOnly
)

// Authorize decides whether a request may use the admin endpoint. token is [admin] token
// ("" for none); authorization is the request's Authorization header; remote is the client's
// address; write is true for the template API and /render (everything but the read-only
// /healthz, /metrics and /status).
//
// With a token every request but /healthz must carry "Bearer TOKEN", or HTTP Basic
// credentials whose password is the token (a browser on the status page), compared in
// constant time. Without one, the read-only resources are open (loopback is the default listen
// address, and config refuses a remote listen without a token) and the template API still
// refuses clients off loopback, in case the endpoint was exposed in code.
func Authorize(token, authorization string, remote netip.Addr, write bool) Access {
	if token == "" {
		if write && !remote.Unmap().IsLoopback() {
			return LoopbackOnly
		}
		return Allowed
	}
	got, ok := strings.CutPrefix(authorization, "Bearer ")
	if !ok {
		// A browser on the status page: HTTP Basic with the token as the password.
		b64, basic := strings.CutPrefix(authorization, "Basic ")
		raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(b64))
		_, pass, colon := strings.Cut(string(raw), ":")
		if !basic || err != nil || !colon {
			return Unauthorized
		}
		got = pass
	}
	if subtle.ConstantTimeCompare([]byte(strings.TrimSpace(got)), []byte(token)) != 1 {
		return Unauthorized
	}
	return Allowed
}

// remoteAddr is the client address of r (zero when it cannot be parsed: not loopback).
func remoteAddr(r *http.Request) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, _ := netip.ParseAddr(host)
	return a
}

// authorize wraps next with the token check; /healthz stays open so health checks need no
// secret.
func (s *Server) authorize(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" {
			next.ServeHTTP(w, r)
			return
		}
		switch Authorize(s.opts.Token, r.Header.Get("Authorization"), remoteAddr(r), isAPI(r.URL.Path)) {
		case Unauthorized:
			w.Header().Add("WWW-Authenticate", `Bearer realm="sidecar admin"`)
			w.Header().Add("WWW-Authenticate", `Basic realm="sidecar admin (any user, the token as password)"`)
			writeError(w, http.StatusUnauthorized, "missing or wrong bearer token (Authorization: Bearer TOKEN, [admin] token)")
		case LoopbackOnly:
			writeError(w, http.StatusForbidden, "the template API is open to loopback clients only unless [admin] token is set")
		default:
			next.ServeHTTP(w, r)
		}
	})
}
