// Package sipstatus is the one place that maps errors to SIP answers: the error type that
// carries an answer (code, reason phrase, Retry-After, Contact), the reason phrase table, the
// rules that turn any error into the final answer of an unanswered call (Answer, Of), and the
// Q.850 cause to SIP status table of RFC 3398 (FromCause).
//
// Packages that decide an answer return a *Error (identify for a rejected request, rtp for an
// unacceptable SDP, dialplan for Hangup, Busy, Transfer, ...); only the SIP service writes
// answers, from Answer(err). The package imports the standard library only.
package sipstatus

import (
	"context"
	"errors"
	"fmt"
	"strconv"
)

// Error is an error with the SIP answer it deserves.
type Error struct {
	// Code is the SIP status code, 300-699 for a final answer of an unanswered call.
	Code int
	// Reason is the reason phrase; "" means Phrase(Code).
	Reason string
	// RetryAfter, when > 0, is the Retry-After header of the answer, in seconds.
	RetryAfter int
	// Contact is the target of a redirection (3xx): a SIP URI.
	Contact string
	// Err is the cause, for logs; it may be nil.
	Err error
}

// New returns an *Error answering code with its standard phrase because of err.
func New(code int, err error) *Error {
	return &Error{Code: code, Reason: Phrase(code), Err: err}
}

// Newf is New with a cause formatted as by fmt.Errorf (%w wraps).
func Newf(code int, format string, args ...any) *Error {
	return New(code, fmt.Errorf(format, args...))
}

// WithReason returns an *Error answering code with its own reason phrase (for example 403
// "Unknown Template") because of err.
func WithReason(code int, reason string, err error) *Error {
	return &Error{Code: code, Reason: reason, Err: err}
}

// Redirect returns an *Error answering 302 Moved Temporarily with Contact: target.
func Redirect(target string, err error) *Error {
	return &Error{Code: 302, Reason: Phrase(302), Contact: target, Err: err}
}

// Error formats the answer and its cause for a log line: "403 Unknown Template: cause".
func (e *Error) Error() string {
	s := strconv.Itoa(e.Code) + " " + e.reason()
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

func (e *Error) reason() string {
	if e.Reason != "" {
		return e.Reason
	}
	return Phrase(e.Code)
}

// Answer returns the final answer err deserves when it ends an unanswered call; nil for nil.
// The result's Err is err. The rules, in order:
//
//   - err is or wraps an *Error (errors.As): its code, reason (its own, else the standard
//     phrase), Retry-After and Contact; a code outside 300-699 becomes 500.
//   - context.Canceled or context.DeadlineExceeded: 487 Request Terminated.
//   - anything else: 500 Server Internal Error.
//
// Sentinels of other packages get their answer where they are made: the SIP service wraps
// identify.ErrNoMatch in an *Error with the configured no-match code, and its drain cause
// is a 503 with Retry-After.
func Answer(err error) *Error {
	if err == nil {
		return nil
	}
	var e *Error
	switch {
	case errors.As(err, &e):
		if e.Code < 300 || e.Code > 699 {
			return &Error{Code: 500, Reason: Phrase(500), Err: err}
		}
		return &Error{Code: e.Code, Reason: e.reason(), RetryAfter: e.RetryAfter, Contact: e.Contact, Err: err}
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return &Error{Code: 487, Reason: Phrase(487), Err: err}
	}
	return &Error{Code: 500, Reason: Phrase(500), Err: err}
}

// Of returns the status code and reason phrase of Answer(err); 0 and "" for nil.
func Of(err error) (code int, reason string) {
	a := Answer(err)
	if a == nil {
		return 0, ""
	}
	return a.Code, a.Reason
}
