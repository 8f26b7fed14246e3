package lazylog

import (
	"testing"
	"unsafe"
)

// TestLoggedSize keeps a With's one allocation in the 80-byte size class (one per per-call
// logger; the class above is 96).
func TestLoggedSize(t *testing.T) {
	if n := unsafe.Sizeof(logged{}); n > 80 {
		t.Errorf("logged is %d bytes, want <= 80", n)
	}
}
