package sipsvc

import (
	"context"
	"errors"

	"github.com/emiago/sipgo/sip"
	"github.com/sidecar-voip/sidecar/identify"
	"github.com/sidecar-voip/sidecar/media"
)

// statusError is an error with the SIP answer it deserves, for failures found in this
// package (a request that cannot be read, a profile that cannot be built).
type statusError struct {
	status int
	reason string
	err    error
}

func (e *statusError) Error() string {
	if e.err == nil {
		return e.reason
	}
	return e.reason + ": " + e.err.Error()
}

func (e *statusError) Unwrap() error  { return e.err }
func (e *statusError) SIPStatus() int { return e.status }

// sipStatuser is implemented by errors that choose their SIP answer: identify.Error,
// media.StatusError and statusError.
type sipStatuser interface {
	SIPStatus() int
}

// statusOf is the one place that maps an error ending an unanswered call to a SIP status
// and reason phrase. noMatch is the configured answer when no identifier matched.
//
//   - identify.ErrNoMatch: noMatch (403 by default).
//   - an error with SIPStatus() int (identify.Error, media.StatusError, statusError): that
//     status, with the error's own reason phrase when it has one. A status outside 300-699
//     becomes 500.
//   - ErrDraining: 503.
//   - anything else (a dialplan or application failure): 500.
func statusOf(err error, noMatch int) (int, string) {
	switch {
	case err == nil:
		return 0, ""
	case errors.Is(err, identify.ErrNoMatch):
		return noMatch, reasonPhrase(noMatch)
	case errors.Is(err, ErrDraining):
		return sip.StatusServiceUnavailable, reasonPhrase(sip.StatusServiceUnavailable)
	}
	var st sipStatuser
	if errors.As(err, &st) {
		code := st.SIPStatus()
		if code < 300 || code > 699 {
			return 500, reasonPhrase(500)
		}
		if r := reasonOf(err); r != "" {
			return code, r
		}
		return code, reasonPhrase(code)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return sip.StatusRequestTerminated, reasonPhrase(sip.StatusRequestTerminated)
	}
	return 500, reasonPhrase(500)
}

// reasonOf returns the reason phrase carried by err, or "" when it carries none.
func reasonOf(err error) string {
	var se *statusError
	if errors.As(err, &se) {
		return se.reason
	}
	var ie *identify.Error
	if errors.As(err, &ie) {
		return ie.Reason
	}
	if _, reason := media.Status(err); reason != "" {
		return reason
	}
	return ""
}

// reasonPhrase is the standard reason phrase of a status code (RFC 3261 section 21).
func reasonPhrase(code int) string {
	if r, ok := phrases[code]; ok {
		return r
	}
	switch {
	case code >= 600:
		return "Global Failure"
	case code >= 500:
		return "Server Error"
	case code >= 400:
		return "Request Failure"
	case code >= 300:
		return "Redirection"
	case code >= 200:
		return "OK"
	}
	return "Progress"
}

var phrases = map[int]string{
	100: "Trying",
	180: "Ringing",
	181: "Call Is Being Forwarded",
	182: "Queued",
	183: "Session Progress",
	200: "OK",
	300: "Multiple Choices",
	301: "Moved Permanently",
	302: "Moved Temporarily",
	305: "Use Proxy",
	380: "Alternative Service",
	400: "Bad Request",
	401: "Unauthorized",
	402: "Payment Required",
	403: "Forbidden",
	404: "Not Found",
	405: "Method Not Allowed",
	406: "Not Acceptable",
	407: "Proxy Authentication Required",
	408: "Request Timeout",
	410: "Gone",
	413: "Request Entity Too Large",
	414: "Request-URI Too Long",
	415: "Unsupported Media Type",
	416: "Unsupported URI Scheme",
	420: "Bad Extension",
	421: "Extension Required",
	423: "Interval Too Brief",
	480: "Temporarily Unavailable",
	481: "Call/Transaction Does Not Exist",
	482: "Loop Detected",
	483: "Too Many Hops",
	484: "Address Incomplete",
	485: "Ambiguous",
	486: "Busy Here",
	487: "Request Terminated",
	469: "Bad Info Package",
	488: "Not Acceptable Here",
	489: "Bad Event",
	491: "Request Pending",
	493: "Undecipherable",
	500: "Server Internal Error",
	501: "Not Implemented",
	502: "Bad Gateway",
	503: "Service Unavailable",
	504: "Server Time-out",
	505: "Version Not Supported",
	513: "Message Too Large",
	600: "Busy Everywhere",
	603: "Decline",
	604: "Does Not Exist Anywhere",
	606: "Not Acceptable",
}
