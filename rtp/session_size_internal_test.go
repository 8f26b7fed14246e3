package rtp

import (
	"testing"
	"unsafe"
)

// TestSessionSize keeps a Session in the 640-byte size class: every call allocates one, and
// the next class up is 704 bytes. A field added past the bound should take the place of one
// (or live behind a pointer made only when used).
func TestSessionSize(t *testing.T) {
	if n := unsafe.Sizeof(Session{}); n > 640 {
		t.Errorf("Session is %d bytes, want <= 640", n)
	}
}
