package sipstatus

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

// FromCause returns the SIP status code for a Q.850 cause ending an unanswered call.
func FromCause(cause int) int {
	if code, ok := causeToSIP[cause]; ok {
		return code
	}
	return DeclineCode
}
