package sdp

import "testing"

// TestNegotiateDefaultAllocs: negotiating under the default codec list (a party without
// codecs) allocates only the result, not a copy of the list per call.
func TestNegotiateDefaultAllocs(t *testing.T) {
	d, err := Parse([]byte(peerOffers["bench"]))
	if err != nil {
		t.Fatal(err)
	}
	fs, err := Negotiate(d, nil)
	if err != nil || len(fs) == 0 || fs[0].Name != "pcmu" {
		t.Fatalf("Negotiate(nil codecs) = %v, %v; want pcmu first", fs, err)
	}
	if n := testing.AllocsPerRun(100, func() { _, _ = Negotiate(d, nil) }); n > 1 {
		t.Errorf("Negotiate with the default codecs: %v allocations, want <= 1", n)
	}
	if n := testing.AllocsPerRun(100, func() { _, _ = OfferFormats(nil) }); n > 3 {
		t.Errorf("OfferFormats with the default codecs: %v allocations, want <= 3", n)
	}
}
