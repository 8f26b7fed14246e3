package sip

// sidecar patch test: a header name outside headerToLower's list and not all lower case is
// looked up lowered into a stack buffer: parsing it allocates only the header.

import (
	"maps"
	"testing"
)

func TestParseHeaderUnknownNameNoLowerAllocSidecar(t *testing.T) {
	// A copy: DefaultHeadersParser is the package's map, and a parser is registered below.
	p := HeadersParser(maps.Clone(DefaultHeadersParser()))
	line := []byte("X-Caller-Template: subscriber;user=alice")
	text := string(line)
	var out []Header
	n := testing.AllocsPerRun(100, func() {
		var err error
		out, err = p.parseHeaderText(out[:0], line, text)
		if err != nil {
			t.Fatal(err)
		}
	})
	// The GenericHeader; upstream lowered the name first (2).
	if n > 1 {
		t.Errorf("an unknown header parsed with %.0f allocations, want 1", n)
	}
	if len(out) != 1 || out[0].Name() != "X-Caller-Template" || out[0].Value() != "subscriber;user=alice" {
		t.Fatalf("parsed %v", out)
	}
	// A parser registered for such a name still gets the name lowered.
	var got string
	p["x-caller-template"] = func(name []byte, text string) (Header, error) {
		got = string(name)
		return NewHeader("X-Caller-Template", text), nil
	}
	if _, err := p.parseHeaderText(nil, line, string(line)); err != nil {
		t.Fatal(err)
	}
	if got != "x-caller-template" {
		t.Errorf("registered parser got name %q", got)
	}
	// Names headerToLower lowers without allocating are unchanged.
	for _, name := range []string{"Via", "CSeq", "max-forwards", "Record-Route", "X", "user-agent"} {
		if a, b := string(headerToLower([]byte(name))), string(asciiToLower([]byte(name))); a != b {
			t.Errorf("headerToLower(%q) = %q, want %q", name, a, b)
		}
	}
}
