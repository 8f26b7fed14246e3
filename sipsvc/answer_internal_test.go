package sipsvc

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/sidecar-voip/sidecar/identify"
	"github.com/sidecar-voip/sidecar/internal/sipstatus"
)

// TestFinalAnswer covers the answers the service writes for the errors that end an
// unanswered call, headers included.
func TestFinalAnswer(t *testing.T) {
	for _, tc := range []struct {
		name    string
		err     error
		code    int
		reason  string
		headers string
	}{
		{"dialplan ended without an answer", nil, 603, "Decline", ""},
		{"no match configured", fmt.Errorf("identify: %w", identify.Answer(identify.ErrNoMatch, 404)), 404, "Not Found", ""},
		{"identify rejection", sipstatus.WithReason(403, "Unknown Template", errors.New("x")), 403, "Unknown Template", ""},
		{"media 488", fmt.Errorf("open media: %w", sipstatus.New(488, errors.New("no codec"))), 488, "Not Acceptable Here", ""},
		{"media 503 has no Retry-After", sipstatus.New(503, errors.New("no port")), 503, "Service Unavailable", ""},
		{"draining", fmt.Errorf("run: %w", drainHangup()), 503, "Service Unavailable", "Retry-After: 5"},
		{"redirect", sipstatus.Redirect("sip:bob@192.0.2.7:5062;transport=tcp", nil), 302, "Moved Temporarily",
			"Contact: <sip:bob@192.0.2.7:5062;transport=tcp>"},
		{"redirect to a bad URI", sipstatus.Redirect("tel:+123", nil), 500, "Server Internal Error", ""},
		{"cancelled", context.Canceled, 487, "Request Terminated", ""},
		{"anything else", errors.New("boom"), 500, "Server Internal Error", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, hdrs := finalAnswer(tc.err)
			var hs []string
			for _, h := range hdrs {
				hs = append(hs, h.Name()+": "+h.Value())
			}
			if a.Code != tc.code || a.Reason != tc.reason || strings.Join(hs, "\n") != tc.headers {
				t.Errorf("finalAnswer = %d %q %q, want %d %q %q", a.Code, a.Reason, hs, tc.code, tc.reason, tc.headers)
			}
		})
	}
	if !errors.Is(drainHangup(), ErrDraining) {
		t.Error("the drain's cause does not wrap ErrDraining")
	}
}
