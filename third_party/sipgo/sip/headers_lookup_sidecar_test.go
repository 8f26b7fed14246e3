package sip

import "testing"

// TestHeaderLookupNoAlloc (sidecar patch): GetHeader and GetHeaders match names in any case
// and allocate nothing for a name outside HeaderToLower's list, such as "Server" or
// "user-agent" (upstream lowered both names per header compared: an allocation each).
func TestHeaderLookupNoAlloc(t *testing.T) {
	req := NewRequest(INVITE, Uri{User: "bob", Host: "example.com"})
	req.AppendHeader(NewHeader("Content-Type", "application/sdp"))
	req.AppendHeader(NewHeader("User-Agent", "x"))
	req.AppendHeader(NewHeader("X-Custom-Id", "1"))
	req.AppendHeader(NewHeader("Server", "s"))
	for _, name := range []string{"server", "Server", "SERVER", "user-agent", "User-Agent", "x-custom-id", "X-CUSTOM-ID"} {
		if req.GetHeader(name) == nil {
			t.Errorf("GetHeader(%q) = nil", name)
		}
		if n := len(req.GetHeaders(name)); n != 1 {
			t.Errorf("GetHeaders(%q): %d headers, want 1", name, n)
		}
	}
	if req.GetHeader("serve") != nil || req.GetHeader("servers") != nil || req.GetHeader("Allow") != nil {
		t.Error("GetHeader matched a different name")
	}
	if n := testing.AllocsPerRun(100, func() {
		_ = req.GetHeader("Server")
		_ = req.GetHeader("Allow")
		_ = req.GetHeader("x-custom-id")
	}); n != 0 {
		t.Errorf("GetHeader: %v allocations, want 0", n)
	}
}
