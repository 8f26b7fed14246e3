package sipsvc

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/sidecar-voip/sidecar/identify"
	"github.com/sidecar-voip/sidecar/media"
)

func TestStatusOf(t *testing.T) {
	for _, tc := range []struct {
		name       string
		err        error
		noMatch    int
		wantCode   int
		wantReason string
	}{
		{"no match default", fmt.Errorf("identify: %w", identify.ErrNoMatch), 403, 403, "Forbidden"},
		{"no match configured", identify.ErrNoMatch, 404, 404, "Not Found"},
		{"identify error", &identify.Error{Status: 500, Reason: "Unknown Template", Err: errors.New("x")}, 403, 500, "Unknown Template"},
		{"media 488", fmt.Errorf("open media: %w", &media.StatusError{Status: 488, Reason: "Not Acceptable Here"}), 403, 488, "Not Acceptable Here"},
		{"media 503", &media.StatusError{Status: 503, Reason: "No RTP Port"}, 403, 503, "No RTP Port"},
		{"status out of range", &media.StatusError{Status: 200, Reason: "OK"}, 403, 500, "Server Internal Error"},
		{"own status error", &statusError{status: 400, reason: "Bad Request", err: errors.New("no From")}, 403, 400, "Bad Request"},
		{"draining", fmt.Errorf("run: %w", ErrDraining), 403, 503, "Service Unavailable"},
		{"cancelled", context.Canceled, 403, 487, "Request Terminated"},
		{"anything else", errors.New("boom"), 403, 500, "Server Internal Error"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, reason := statusOf(tc.err, tc.noMatch)
			if code != tc.wantCode || reason != tc.wantReason {
				t.Errorf("statusOf = %d %q, want %d %q", code, reason, tc.wantCode, tc.wantReason)
			}
		})
	}
}

func TestReasonPhrase(t *testing.T) {
	for code, want := range map[int]string{486: "Busy Here", 302: "Moved Temporarily", 599: "Server Error", 699: "Global Failure", 499: "Request Failure"} {
		if got := reasonPhrase(code); got != want {
			t.Errorf("reasonPhrase(%d) = %q, want %q", code, got, want)
		}
	}
}
