package sipsvc

import (
	"bytes"
	"net/netip"
	"strconv"
	"time"
)

// The framing check of the UDP socket filter: after the trust check, a datagram goes up to
// sipgo only when it can be a whole SIP message. Random bytes, a truncated message or a
// datagram larger than the read buffer is discarded at the socket, counted
// (Stats.Malformed) and logged at most once per second, without a parse, an allocation or a
// log line per datagram (sipgo would parse it and log each failure at error level with the
// datagram's text). What passes may still be malformed inside: sipgo answers it 400 or
// drops it.

// malformedLogEvery spaces the log lines about malformed datagrams.
const malformedLogEvery = time.Second

// framed reports whether datagram b from src (read with flags) goes up; a datagram it does
// not pass is counted as malformed. Without a malformed counter it passes everything.
func (g *trustGate) framed(src netip.AddrPort, b []byte, flags int) bool {
	if g.malformed == nil {
		return true
	}
	why := ""
	switch {
	case msgTrunc != 0 && flags&msgTrunc != 0:
		why = "larger than the read buffer"
	default:
		why = frameFault(b)
	}
	if why == "" {
		return true
	}
	g.malformed(src, why)
	return false
}

// frameFault says why datagram b cannot be a whole SIP message ("" when it can): a
// keep-alive of CRs and LFs passes; otherwise it needs a start line (a request line
// "METHOD uri SIP/2.0" or a status line "SIP/2.0 "), the end of its header section (an
// empty line) and at least the body its Content-Length announces.
func frameFault(b []byte) string {
	if len(bytes.Trim(b, "\r\n")) == 0 {
		return "" // keep-alive: sipgo ignores it
	}
	eol := bytes.Index(b, []byte("\r\n"))
	if eol < 0 || !isStartLine(b[:eol]) {
		return "no SIP start line"
	}
	end := bytes.Index(b, []byte("\r\n\r\n"))
	if end < 0 {
		return "header section not ended"
	}
	head, body := b[:end+2], b[end+4:]
	if n, ok := contentLength(head); ok && n > len(body) {
		return "body shorter than its Content-Length"
	}
	return ""
}

// isStartLine reports whether line (without its CRLF) has the shape of a SIP status line
// ("SIP/" first) or request line: a method token, a space, a URI, a space, "SIP/" and a
// version (any: sipgo and the handlers answer an unknown version 505).
func isStartLine(line []byte) bool {
	if hasPrefixFoldASCII(line, "SIP/") {
		return true
	}
	m := 0
	for m < len(line) && isTokenChar(line[m]) {
		m++
	}
	if m == 0 || m >= len(line) || line[m] != ' ' {
		return false
	}
	sp := bytes.LastIndexByte(line, ' ')
	return sp > m+1 && hasPrefixFoldASCII(line[sp+1:], "SIP/") && len(line) > sp+len(" SIP/")
}

// contentLength finds the Content-Length (or compact l) header in the header section head
// (ending with CRLF) and returns its value; ok false when absent or unreadable (sipgo
// decides).
func contentLength(head []byte) (int, bool) {
	for len(head) > 0 {
		eol := bytes.Index(head, []byte("\r\n"))
		if eol < 0 {
			break
		}
		line := head[:eol]
		head = head[eol+2:]
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		name = bytes.TrimSpace(name)
		if !equalFoldASCII(name, "CONTENT-LENGTH") && !equalFoldASCII(name, "L") {
			continue
		}
		n, err := strconv.Atoi(string(bytes.TrimSpace(value)))
		return n, err == nil && n >= 0
	}
	return 0, false
}

// malformedAtSocket counts one trusted datagram discarded as not SIP and logs it, at most
// once per malformedLogEvery.
func (s *Server) malformedAtSocket(src netip.AddrPort, why string) {
	s.stats.malformed.Add(1)
	if ok, held := s.stats.malformedLog.allow(time.Now(), malformedLogEvery); ok {
		s.log.Warn("malformed datagram discarded", "source", src.String(), "why", why,
			"suppressed_since_last", held)
	}
}
