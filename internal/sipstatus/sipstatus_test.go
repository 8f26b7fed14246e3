package sipstatus

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

// TestAnswer covers every rule of Answer (and so of Of).
func TestAnswer(t *testing.T) {
	cause := errors.New("no common codec")
	for _, tc := range []struct {
		name       string
		err        error
		code       int
		reason     string
		retryAfter int
		contact    string
	}{
		{"nil", nil, 0, "", 0, ""},
		{"own reason kept", WithReason(403, "Unknown Template", cause), 403, "Unknown Template", 0, ""},
		{"wrapped", fmt.Errorf("open media: %w", New(488, cause)), 488, "Not Acceptable Here", 0, ""},
		{"empty reason gets the phrase", &Error{Code: 486}, 486, "Busy Here", 0, ""},
		{"unknown code gets the class phrase", &Error{Code: 599}, 599, "Server Error", 0, ""},
		{"retry-after kept", &Error{Code: 503, RetryAfter: 5}, 503, "Service Unavailable", 5, ""},
		{"contact kept", Redirect("sip:bob@example.com", nil), 302, "Moved Temporarily", 0, "sip:bob@example.com"},
		{"below 300", &Error{Code: 200, Reason: "OK"}, 500, "Server Internal Error", 0, ""},
		{"provisional", &Error{Code: 183, RetryAfter: 5}, 500, "Server Internal Error", 0, ""},
		{"above 699", &Error{Code: 700, Reason: "Odd"}, 500, "Server Internal Error", 0, ""},
		{"status before cancel", New(486, context.Canceled), 486, "Busy Here", 0, ""},
		{"canceled", fmt.Errorf("run: %w", context.Canceled), 487, "Request Terminated", 0, ""},
		{"deadline", context.DeadlineExceeded, 487, "Request Terminated", 0, ""},
		{"anything else", errors.New("boom"), 500, "Server Internal Error", 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, reason := Of(tc.err)
			if code != tc.code || reason != tc.reason {
				t.Errorf("Of = %d %q, want %d %q", code, reason, tc.code, tc.reason)
			}
			a := Answer(tc.err)
			if tc.err == nil {
				if a != nil {
					t.Fatalf("Answer(nil) = %v, want nil", a)
				}
				return
			}
			if a.Code != tc.code || a.Reason != tc.reason || a.RetryAfter != tc.retryAfter || a.Contact != tc.contact {
				t.Errorf("Answer = %+v, want %d %q retry-after %d contact %q", a, tc.code, tc.reason, tc.retryAfter, tc.contact)
			}
			if !errors.Is(a, tc.err) {
				t.Errorf("Answer(err) does not wrap err")
			}
		})
	}
}

func TestError(t *testing.T) {
	cause := errors.New("caller template \"x\"")
	e := WithReason(403, "Unknown Template", cause)
	if got, want := e.Error(), `403 Unknown Template: caller template "x"`; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if !errors.Is(e, cause) {
		t.Error("Unwrap does not reach the cause")
	}
	if got := (&Error{Code: 486}).Error(); got != "486 Busy Here" {
		t.Errorf("Error() = %q, want %q", got, "486 Busy Here")
	}
	if e := Newf(404, "no %s: %w", "route", cause); e.Code != 404 || e.Reason != "Not Found" || !errors.Is(e, cause) {
		t.Errorf("Newf = %+v", e)
	}
}

func TestPhrase(t *testing.T) {
	for code, want := range map[int]string{
		100: "Trying", 183: "Session Progress", 200: "OK", 302: "Moved Temporarily", 380: "Alternative Service",
		399: "Redirection", 469: "Bad Info Package", 486: "Busy Here", 487: "Request Terminated",
		499: "Request Failure", 504: "Server Time-out", 599: "Server Error", 603: "Decline",
		699: "Global Failure", 250: "OK", 150: "Progress",
	} {
		if got := Phrase(code); got != want {
			t.Errorf("Phrase(%d) = %q, want %q", code, got, want)
		}
	}
}

// TestFromCause checks every entry of RFC 3398 section 7.2.4.1 and the fallback.
func TestFromCause(t *testing.T) {
	rfc3398 := []struct{ cause, code int }{
		{1, 404}, {2, 404}, {3, 404}, {17, 486}, {18, 408}, {19, 480}, {20, 480}, {21, 403},
		{22, 410}, {23, 410}, {26, 404}, {27, 502}, {28, 484}, {29, 501}, {31, 480}, {34, 503},
		{38, 503}, {41, 503}, {42, 503}, {47, 503}, {55, 403}, {57, 403}, {58, 503}, {65, 488},
		{70, 488}, {79, 501}, {87, 403}, {88, 503}, {102, 504}, {111, 500}, {127, 500},
	}
	for _, tc := range rfc3398 {
		if got := FromCause(tc.cause); got != tc.code {
			t.Errorf("FromCause(%d) = %d, want %d (RFC 3398 7.2.4.1)", tc.cause, got, tc.code)
		}
		if _, ok := phrases[tc.code]; !ok {
			t.Errorf("no reason phrase for %d", tc.code)
		}
	}
	if len(causeToSIP) != len(rfc3398) {
		t.Errorf("table has %d entries, RFC 3398 lists %d", len(causeToSIP), len(rfc3398))
	}
	for _, cause := range []int{16, 0, 4, 99, 128} {
		if got := FromCause(cause); got != DeclineCode {
			t.Errorf("FromCause(%d) = %d, want %d", cause, got, DeclineCode)
		}
	}
}
