package sip

// sidecar patch test: ParseAddressValue's state machine (addressFSM) no longer makes its
// nameAddress escape to the heap.

import "testing"

func TestParseAddressValueAllocsSidecar(t *testing.T) {
	var uri Uri
	params := make(HeaderParams, 0, 4)
	var name string
	n := testing.AllocsPerRun(200, func() {
		uri = Uri{}
		params = params[:0]
		var err error
		name, err = ParseAddressValue(`"Alice" <sip:alice@example.com:5060>;tag=abc;x`, &uri, &params)
		if err != nil {
			t.Fatal(err)
		}
	})
	if name != "Alice" || uri.User != "alice" || uri.Host != "example.com" || uri.Port != 5060 ||
		params.GetOr("tag", "") != "abc" || !params.Has("x") {
		t.Fatalf("parsed %q %+v %v", name, uri, params)
	}
	// The URI and the parameters go where the caller said: nothing else is allocated
	// (upstream: the parser's nameAddress, 1).
	if n > 0 {
		t.Fatalf("ParseAddressValue: %.0f allocations, want 0", n)
	}
	for _, bad := range []string{"", `"Alice <sip:a@b>`, "<sip:a@b", `"A\` + "\n" + `" <sip:a@b>`} {
		if _, err := ParseAddressValue(bad, &Uri{}, &HeaderParams{}); err == nil {
			t.Errorf("ParseAddressValue(%q): no error", bad)
		}
	}
}
