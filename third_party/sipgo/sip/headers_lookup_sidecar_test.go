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

// TestCopyHeadersSidecar (sidecar patch): CopyHeaders clones every header of the name, in
// order, allocating only the clones (no slice gathered first).
func TestCopyHeadersSidecar(t *testing.T) {
	req := testCreateRequest(t, "INVITE", "sip:bob@127.0.0.1:5060", "UDP", "127.0.0.2:5066")
	params := NewParams()
	params.Add("branch", "z9hG4bKa")
	req.PrependHeader(&ViaHeader{ProtocolName: "SIP", ProtocolVersion: "2.0", Transport: "UDP", Host: "192.0.2.1", Port: 5070, Params: params})
	vias := req.GetHeaders("via")
	if len(vias) != 2 {
		t.Fatalf("%d Via headers, want 2", len(vias))
	}
	res := NewResponse(200, "OK")
	CopyHeaders("Via", req, res)
	got := res.GetHeaders("via")
	if len(got) != 2 || got[0].Value() != vias[0].Value() || got[1].Value() != vias[1].Value() {
		t.Fatalf("copied %v, want %v", got, vias)
	}
	if got[0] == vias[0] {
		t.Error("the Via was shared, not cloned")
	}
	copyAllocs := testing.AllocsPerRun(100, func() {
		r := NewResponse(200, "OK")
		CopyHeaders("Via", req, r)
	})
	cloneAllocs := testing.AllocsPerRun(100, func() {
		appendClones(NewResponse(200, "OK"), vias)
	})
	if copyAllocs > cloneAllocs {
		t.Errorf("CopyHeaders: %v allocations, the clones alone %v", copyAllocs, cloneAllocs)
	}
	if n := testing.AllocsPerRun(100, func() { CopyHeaders("Timestamp", req, res) }); n != 0 {
		t.Errorf("CopyHeaders of an absent header: %v allocations", n)
	}
}

// appendClones appends clones of hs to m, as CopyHeaders does (m escapes the same way).
//
//go:noinline
func appendClones(m Message, hs []Header) {
	for _, h := range hs {
		m.AppendHeader(h.headerClone())
	}
}
