package sip

// sidecar patch test: the server transaction and the response, allocated for every request
// and answer, fit the smaller size class they were moved into (ServerTx's flags side by
// side, Response's resolved address without the unused fields of an Addr).

import (
	"testing"
	"unsafe"
)

func TestStructSizeClassSidecar(t *testing.T) {
	// Upstream: 248 and 296 bytes, in the 256- and 320-byte size classes.
	if n := unsafe.Sizeof(ServerTx{}); n > 240 {
		t.Errorf("ServerTx is %d bytes, want <= 240 (the 240-byte size class)", n)
	}
	if n := unsafe.Sizeof(Response{}); n > 288 {
		t.Errorf("Response is %d bytes, want <= 288 (the 288-byte size class)", n)
	}
}
