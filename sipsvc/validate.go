package sipsvc

import (
	"strconv"
	"strings"

	"github.com/emiago/sipgo/sip"
)

// singleHeaders are the header fields a request carries exactly once (RFC 3261 20; RFC 4475
// multi01): a second value is a malformed request, not a choice of either.
var singleHeaders = [...]string{"Call-ID", "CSeq", "From", "To", "Max-Forwards", "Content-Length", "Content-Type"}

// malformed returns the answer to a request that sipgo's parser accepts but RFC 3261 does
// not, and why (0 when req is fine): a SIP version other than 2.0 gets 505 (RFC 4475
// badvers); a single-value header field repeated (multi01) or a CSeq method other than the
// request's (mismatch01, mismatch02) gets 400. The guard answers it before any handler runs
// (an ACK is dropped).
func malformed(req *sip.Request) (int, string) {
	if req.SipVersion != "SIP/2.0" {
		return sip.StatusVersionNotSupported, "version " + req.SipVersion
	}
	// One pass over the headers, counting without allocating (this runs for every request;
	// GetHeaders per name built a slice and lowered every header name seven times).
	var counts [len(singleHeaders)]int
	for _, h := range req.Headers() {
		name := h.Name()
		for i, single := range singleHeaders {
			if len(name) == len(single) && strings.EqualFold(name, single) {
				counts[i]++
				break
			}
		}
	}
	for i, n := range counts {
		if n > 1 {
			return sip.StatusBadRequest, singleHeaders[i] + " appears " + strconv.Itoa(n) + " times"
		}
	}
	if cseq := req.CSeq(); cseq != nil && !strings.EqualFold(string(cseq.MethodName), string(req.Method)) {
		return sip.StatusBadRequest, "CSeq method " + string(cseq.MethodName) + " is not the request's " + string(req.Method)
	}
	return 0, ""
}
