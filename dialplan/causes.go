package dialplan

import (
	"context"
	"fmt"
	"strconv"
)

// Q.850 cause values the dialplan names.
const (
	CauseUnallocated    = 1
	CauseNormalClearing = 16
	CauseUserBusy       = 17
	CauseCongestion     = 34
)

// causeToSIP maps Q.850 causes to SIP responses for an unanswered call: the table of RFC 3398
// section 7.2.4.1 "ISDN Cause Code to Status Code Mapping" (section 8.2.6.1 is the other
// direction, SIP status to cause), entry for entry. Cause 16 has no entry there (it is a BYE
// or CANCEL); see DeclineCode. Asterisk's chan_pjsip maps fewer, and 38 to 500, 58 to 488.
var causeToSIP = map[int]int{
	1: 404, 2: 404, 3: 404, 17: 486, 18: 408, 19: 480, 20: 480, 21: 403, 22: 410, 23: 410,
	26: 404, 27: 502, 28: 484, 29: 501, 31: 480, 34: 503, 38: 503, 41: 503, 42: 503, 47: 503,
	55: 403, 57: 403, 58: 503, 65: 488, 70: 488, 79: 501, 87: 403, 88: 503, 102: 504, 111: 500,
	127: 500,
}

// DeclineCode is the answer for a cause without a mapping, normal clearing (16) included: 603
// Decline, as Asterisk's chan_pjsip sends when Hangup() ends an unanswered call.
const DeclineCode = 603

// CauseToSIP returns the SIP status code for a Q.850 cause on an unanswered call.
func CauseToSIP(cause int) int {
	if code, ok := causeToSIP[cause]; ok {
		return code
	}
	return DeclineCode
}

// reasons are the reason phrases of the codes the dialplan sends (RFC 3261 section 21).
var reasons = map[int]string{
	302: "Moved Temporarily", 403: "Forbidden", 404: "Not Found", 408: "Request Timeout",
	410: "Gone", 480: "Temporarily Unavailable", 484: "Address Incomplete", 486: "Busy Here",
	488: "Not Acceptable Here", 500: "Server Internal Error", 501: "Not Implemented",
	502: "Bad Gateway", 503: "Service Unavailable", 504: "Server Time-out", 603: "Decline",
	400: "Bad Request", 401: "Unauthorized", 405: "Method Not Allowed", 406: "Not Acceptable",
	407: "Proxy Authentication Required", 413: "Request Entity Too Large", 415: "Unsupported Media Type",
	420: "Bad Extension", 481: "Call/Transaction Does Not Exist", 482: "Loop Detected",
	483: "Too Many Hops", 485: "Ambiguous", 487: "Request Terminated", 491: "Request Pending",
	600: "Busy Everywhere", 604: "Does Not Exist Anywhere", 606: "Not Acceptable",
}

// Reason returns the standard reason phrase for a status code, "" when unknown.
func Reason(code int) string { return reasons[code] }

// parseCause parses a Q.850 cause value (1 to 127).
func parseCause(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 127 {
		return 0, fmt.Errorf("bad hangup cause %q: want a number from 1 to 127", s)
	}
	return n, nil
}

// hangupCause ends the call with a cause: BYE when answered, else the cause's SIP answer.
func hangupCause(ctx context.Context, c *Call, cause int) error {
	_ = c.SetVar("HANGUPCAUSE", strconv.Itoa(cause))
	if c.Answered() {
		if err := c.Hangup(ctx); err != nil {
			return fmt.Errorf("hang up: %w", err)
		}
		return nil
	}
	code := CauseToSIP(cause)
	if err := c.Reject(ctx, code, Reason(code), 0); err != nil {
		return fmt.Errorf("reject %d: %w", code, err)
	}
	return nil
}
