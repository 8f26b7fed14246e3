package sipsvc

import (
	"fmt"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/sidecar-voip/sidecar/internal/sipstatus"
)

// writeFinal is the one place that writes the final answer of an unanswered call: a, as
// computed by finalAnswer from the error that ended the call, with its headers hdrs, once the
// state machine granted it (callState.end). It is counted by code.
func (c *call) writeFinal(a *sipstatus.Error, hdrs []sip.Header) error {
	if a.Contact != "" && a.Code == sip.StatusInternalServerError {
		c.logger().Warn("redirect refused", "error", a.Err)
	}
	if h := c.s.fixed.server; h != nil {
		hdrs = append(hdrs, h)
	}
	c.s.stats.reject(a.Code)
	c.out.finalAt(time.Now())
	// Straight to the transaction, not through the dialog (which would wait for the ACK):
	// the transaction absorbs the ACK and retransmits the answer by itself, and the call's
	// slot is free at once.
	res := sip.NewResponseFromRequest(c.dlg.InviteRequest, a.Code, a.Reason, nil)
	for _, h := range hdrs {
		res.AppendHeader(h)
	}
	if err := c.tx.Respond(res); err != nil {
		return fmt.Errorf("answer %d: %w", a.Code, err)
	}
	return nil
}

// finalAnswer is the answer to an unanswered call ended by err (sipstatus.Answer: code and
// reason) and its headers: Retry-After when the error carries one (a drain's 503), Contact
// for a redirection (Transfer's 302). A nil err, a dialplan that ended without an answer,
// gets noFinalCode. A Contact that is not a SIP URI is answered 500 (Contact kept in the
// result, Err saying why, for the log).
func finalAnswer(err error) (*sipstatus.Error, []sip.Header) {
	a := sipstatus.Answer(err)
	if a == nil {
		a = sipstatus.New(noFinalCode, nil)
	}
	var hdrs []sip.Header
	if a.RetryAfter > 0 {
		hdrs = append(hdrs, retryAfter(a.RetryAfter))
	}
	if a.Contact != "" {
		uri, perr := contactURI(a.Contact)
		if perr != nil {
			bad := sipstatus.New(sip.StatusInternalServerError, perr)
			bad.Contact = a.Contact
			return bad, nil
		}
		hdrs = append(hdrs, &sip.ContactHeader{Address: uri})
	}
	return a, hdrs
}

// contactURI parses the Contact of a redirection: a sip: or sips: URI with a host, with or
// without angle brackets.
func contactURI(target string) (sip.Uri, error) {
	t := strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(target), "<"), ">")
	var uri sip.Uri
	if err := sip.ParseUri(t, &uri); err != nil || uri.Host == "" ||
		(uri.Scheme != "sip" && uri.Scheme != "sips") {
		return sip.Uri{}, fmt.Errorf("redirect: target %q is not a SIP URI", target)
	}
	return uri, nil
}
