package sdp

import (
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestParseInto: ParseInto gives Parse's Description for the fast and the pion path, leaves
// the zero Description on an error, and does not allocate the Description itself.
func TestParseInto(t *testing.T) {
	cmpAddr := cmp.Comparer(func(a, b netip.Addr) bool { return a == b })
	cmpAP := cmp.Comparer(func(a, b netip.AddrPort) bool { return a == b })
	bodies := map[string]string{"bench": peerOffers["bench"], "baresip": peerOffers["baresip"],
		// i= and e= lines: not parseFast's shape, read by pion
		"pion": "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\ni=info\r\ne=a@b\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\na=sendonly\r\n"}
	if _, ok := parseFast([]byte(bodies["pion"])); ok {
		t.Fatal("the pion case is read by parseFast: pick another shape")
	}
	for name, body := range bodies {
		want, err := Parse([]byte(body))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		d := Description{Port: 9, Audio: 7} // stale content is overwritten
		if err := ParseInto([]byte(body), &d); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if diff := cmp.Diff(*want, d, cmpAddr, cmpAP); diff != "" {
			t.Errorf("%s: ParseInto (-Parse +ParseInto):\n%s", name, diff)
		}
	}
	d := Description{Port: 9, Audio: 7}
	if err := ParseInto([]byte("v=0\r\nnonsense\r\n"), &d); err == nil {
		t.Fatal("ParseInto of a malformed body: no error")
	}
	if diff := cmp.Diff(Description{}, d, cmpAddr, cmpAP); diff != "" {
		t.Errorf("after an error (-zero +got):\n%s", diff)
	}
	body := []byte(peerOffers["bench"])
	into := testing.AllocsPerRun(50, func() {
		var d Description
		_ = ParseInto(body, &d)
	})
	// The streams, the audio m-line's format list, the audio formats: not the Description.
	if into > 3 {
		t.Errorf("ParseInto: %v allocations, want <= 3", into)
	}
}
