package codecs_test

import (
	"slices"
	"testing"

	"github.com/sidecar-voip/sidecar/media/codecs"
)

func TestLookupAndCanonical(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"pcmu", "pcmu"}, {"ULAW", "pcmu"}, {"mulaw", "pcmu"}, {"g711u", "pcmu"},
		{"alaw", "pcma"}, {"G711A", "pcma"}, {"g722", "g722"}, {"Opus", "opus"}, {"gsm", "gsm"},
		{"speex", ""}, {"telephone-event", ""}, {"", ""},
	} {
		got, ok := codecs.Canonical(tc.in)
		if got != tc.want || ok != (tc.want != "") {
			t.Errorf("Canonical(%q) = %q, %v; want %q", tc.in, got, ok, tc.want)
		}
	}
	if c, ok := codecs.Lookup("telephone-event"); !ok || c.PT != 101 || c.ClockRate != 8000 {
		t.Errorf("Lookup(telephone-event) = %+v, %v", c, ok)
	}
}

// TestG722Rates: G.722's RTP clock is 8000 Hz for 16000 Hz audio (RFC 3551 4.5.2).
func TestG722Rates(t *testing.T) {
	c, _ := codecs.Lookup("g722")
	if c.ClockRate != 8000 || c.SampleRate != 16000 || c.PT != 9 || !c.Static || !c.Transcoded {
		t.Errorf("g722 = %+v", c)
	}
}

func TestStaticAndEncoding(t *testing.T) {
	for pt, want := range map[uint8]string{0: "pcmu", 3: "gsm", 8: "pcma", 9: "g722", 18: "g729"} {
		if c, ok := codecs.Static(pt); !ok || c.Name != want {
			t.Errorf("Static(%d) = %q, %v; want %s", pt, c.Name, ok, want)
		}
	}
	if _, ok := codecs.Static(101); ok {
		t.Error("Static(101): telephone-event has no static payload type")
	}
	if c, ok := codecs.ByEncoding("opus", 48000, 2); !ok || c.Name != "opus" {
		t.Errorf("ByEncoding(opus/48000/2) = %+v, %v", c, ok)
	}
	if _, ok := codecs.ByEncoding("PCMU", 16000, 1); ok {
		t.Error("ByEncoding(PCMU/16000) matched")
	}
}

// TestDefaultIsDocumented: the default list is the one docs/templates.md documents, and
// every default codec is one the sidecar transcodes.
func TestDefaultIsDocumented(t *testing.T) {
	if got := codecs.Default(); !slices.Equal(got, []string{"pcmu", "pcma"}) {
		t.Errorf("Default() = %v, want [pcmu pcma]", got)
	}
	for _, n := range codecs.Default() {
		if c, _ := codecs.Lookup(n); !c.Transcoded {
			t.Errorf("default codec %s is not transcoded", n)
		}
	}
	d := codecs.Default()
	d[0] = "opus"
	if codecs.Default()[0] != "pcmu" {
		t.Error("Default() shares its backing array")
	}
	if got := codecs.Names(); !slices.Equal(got, []string{"pcmu", "pcma", "g722", "opus", "g729", "gsm"}) {
		t.Errorf("Names() = %v", got)
	}
}
