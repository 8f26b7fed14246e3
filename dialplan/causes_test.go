package dialplan

import "testing"

// TestCauseToSIP checks every entry of RFC 3398 section 7.2.4.1 and the fallback.
func TestCauseToSIP(t *testing.T) {
	rfc3398 := []struct{ cause, code int }{
		{1, 404}, {2, 404}, {3, 404}, {17, 486}, {18, 408}, {19, 480}, {20, 480}, {21, 403},
		{22, 410}, {23, 410}, {26, 404}, {27, 502}, {28, 484}, {29, 501}, {31, 480}, {34, 503},
		{38, 503}, {41, 503}, {42, 503}, {47, 503}, {55, 403}, {57, 403}, {58, 503}, {65, 488},
		{70, 488}, {79, 501}, {87, 403}, {88, 503}, {102, 504}, {111, 500}, {127, 500},
	}
	for _, tc := range rfc3398 {
		if got := CauseToSIP(tc.cause); got != tc.code {
			t.Errorf("CauseToSIP(%d) = %d, want %d (RFC 3398 7.2.4.1)", tc.cause, got, tc.code)
		}
		if Reason(tc.code) == "" {
			t.Errorf("no reason phrase for %d", tc.code)
		}
	}
	if len(causeToSIP) != len(rfc3398) {
		t.Errorf("table has %d entries, RFC 3398 lists %d", len(causeToSIP), len(rfc3398))
	}
	for _, cause := range []int{16, 0, 4, 99, 128} {
		if got := CauseToSIP(cause); got != DeclineCode {
			t.Errorf("CauseToSIP(%d) = %d, want %d", cause, got, DeclineCode)
		}
	}
}
