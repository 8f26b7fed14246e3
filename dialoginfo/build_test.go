package dialoginfo

import (
	"bytes"
	"encoding/xml"
	"testing"
)

// referenceBuild is Build as encoding/xml writes the document: the bytes Build must match.
func referenceBuild(t testing.TB, in Info) []byte {
	t.Helper()
	in.XMLName = xml.Name{Space: Namespace, Local: "dialog-info"}
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	if err := xml.NewEncoder(&b).Encode(in); err != nil {
		t.Fatal(err)
	}
	b.WriteString("\n")
	return b.Bytes()
}

// TestBuildMatchesEncodingXML: Build's bytes are encoding/xml's for every field, with the
// values that need escaping (markup characters, quotes, tab and line ends, invalid UTF-8,
// characters XML cannot carry) in every attribute and text node.
func TestBuildMatchesEncodingXML(t *testing.T) {
	nasty := []string{"plain", `a"b'c&d<e>f`, "tab\there\nnl\rcr", "caf\u00e9 \u4e16\u754c \U0001F600", "bad\xffutf8", "ctl\x01\x1f", "\ufffe\uffff", "]]>"}
	dur := uint32(42)
	compared := 0
	for _, v := range nasty {
		for _, st := range dialogStates {
			in := sample(st)
			in.Version = 4294967295
			d := &in.Dialogs[0]
			d.CallID, d.LocalTag, d.RemoteTag = "c"+v, "l"+v, "r"+v
			d.State.Event, d.State.Code = "rejected", 486
			d.Duration = &dur
			d.Local.Identity.Display = v
			d.Remote.Identity.Display = v
			d.Remote.Target.Params = append(d.Remote.Target.Params, Param{Name: "n" + v, Value: v}, Param{Name: "e"})
			d.Remote.Target.URI = "sip:x@" + v[:1] + "y"
			second := Dialog{ID: "two", State: State{Value: Terminated}}
			in.Dialogs = append(in.Dialogs, second, Dialog{ID: "three", State: State{Value: Early}, Local: &Participant{}, Remote: &Participant{Target: &Target{URI: "sip:t"}}})
			if err := in.Validate(); err != nil {
				continue // the value broke a URI: Build refuses it, nothing to compare
			}
			got, err := Build(in)
			if err != nil {
				t.Fatal(err)
			}
			compared++
			if want := referenceBuild(t, in); !bytes.Equal(got, want) {
				t.Errorf("value %q state %s:\ngot  %s\nwant %s", v, st, got, want)
			}
		}
	}
	if compared < len(nasty)*len(dialogStates) {
		t.Errorf("%d documents compared, want %d", compared, len(nasty)*len(dialogStates))
	}
	for _, st := range dialogStates {
		in := sample(st)
		got, _ := Build(in)
		if want := referenceBuild(t, in); !bytes.Equal(got, want) {
			t.Errorf("sample %s:\ngot  %s\nwant %s", st, got, want)
		}
	}
}

// blfInfo is what the BLF publisher builds for every PUBLISH.
func blfInfo() Info {
	return Info{Version: 12, State: Full, Entity: "sip:1001@example.com", Dialogs: []Dialog{{
		ID: DialogID("a84b4c76e66710@10.0.0.1", "1928301774", ""), CallID: "a84b4c76e66710@10.0.0.1", Direction: Initiator,
		State:  State{Value: Terminated, Event: "rejected", Code: 486},
		Local:  &Participant{Identity: &Identity{URI: "sip:1001@example.com"}},
		Remote: &Participant{Identity: &Identity{URI: "sip:1002@example.com"}},
	}}}
}

func BenchmarkBuild(b *testing.B) {
	in := blfInfo()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Build(in); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBuildEncodingXML is the encoding/xml way Build replaced, for comparison.
func BenchmarkBuildEncodingXML(b *testing.B) {
	in := blfInfo()
	b.ReportAllocs()
	for b.Loop() {
		if err := in.Validate(); err != nil {
			b.Fatal(err)
		}
		referenceBuild(b, in)
	}
}

func BenchmarkDialogID(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		DialogID("a84b4c76e66710@10.0.0.1", "1928301774", "")
	}
}
