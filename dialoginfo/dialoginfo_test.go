package dialoginfo

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// checkSchema walks a document's tokens and checks RFC 4235's structure independently of the
// package's own types: every element in the dialog-info namespace, the root's required
// attributes, a dialog's required id, its children in schema order with exactly one state,
// and the enumerations.
func checkSchema(t *testing.T, doc []byte) {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(doc))
	var stack []string
	order := map[string]int{"state": 0, "duration": 1, "replaces": 2, "referred-by": 3, "route-set": 4, "local": 5, "remote": 6}
	lastChild, states := -1, 0
	attrs := func(se xml.StartElement) map[string]string {
		m := map[string]string{}
		for _, a := range se.Attr {
			if a.Name.Space == "" {
				m[a.Name.Local] = a.Value
			}
		}
		return m
	}
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("not XML: %v\n%s", err, doc)
		}
		switch tk := tok.(type) {
		case xml.StartElement:
			if tk.Name.Space != Namespace {
				t.Fatalf("element %s in namespace %q", tk.Name.Local, tk.Name.Space)
			}
			a := attrs(tk)
			parent := ""
			if len(stack) > 0 {
				parent = stack[len(stack)-1]
			}
			switch {
			case len(stack) == 0:
				if tk.Name.Local != "dialog-info" {
					t.Fatalf("root %s", tk.Name.Local)
				}
				for _, k := range []string{"version", "state", "entity"} {
					if a[k] == "" {
						t.Fatalf("dialog-info without %s", k)
					}
				}
				if a["state"] != "full" && a["state"] != "partial" {
					t.Fatalf("state %q", a["state"])
				}
			case parent == "dialog-info":
				if tk.Name.Local != "dialog" || a["id"] == "" {
					t.Fatalf("child %s of dialog-info, id %q", tk.Name.Local, a["id"])
				}
				if dir, ok := a["direction"]; ok && dir != "initiator" && dir != "recipient" {
					t.Fatalf("direction %q", dir)
				}
				lastChild, states = -1, 0
			case parent == "dialog":
				pos, ok := order[tk.Name.Local]
				if !ok || pos <= lastChild {
					t.Fatalf("dialog child %s out of order", tk.Name.Local)
				}
				lastChild = pos
				if tk.Name.Local == "state" {
					states++
				}
			case parent == "local" || parent == "remote":
				if tk.Name.Local != "identity" && tk.Name.Local != "target" {
					t.Fatalf("%s child %s", parent, tk.Name.Local)
				}
				if tk.Name.Local == "target" && a["uri"] == "" {
					t.Fatal("target without uri")
				}
			case parent == "target":
				if tk.Name.Local != "param" || a["pname"] == "" {
					t.Fatalf("target child %s", tk.Name.Local)
				}
			}
			stack = append(stack, tk.Name.Local)
		case xml.CharData:
			if len(stack) > 0 && stack[len(stack)-1] == "state" {
				if v := strings.TrimSpace(string(tk)); !oneOf(v, dialogStates) {
					t.Fatalf("dialog state %q", v)
				}
			}
		case xml.EndElement:
			if tk.Name.Local == "dialog" && states != 1 {
				t.Fatalf("dialog with %d state elements", states)
			}
			stack = stack[:len(stack)-1]
		}
	}
}

func sample(state string) Info {
	return Info{State: Full, Entity: "sip:1001@example.com", Dialogs: []Dialog{{
		ID: DialogID("a84b4c76e66710", "1928301774", "xyz"), CallID: "a84b4c76e66710", LocalTag: "1928301774", RemoteTag: "xyz",
		Direction: Initiator, State: State{Value: state},
		Local:  &Participant{Identity: &Identity{URI: "sip:1001@example.com", Display: "Alice & <Co>"}},
		Remote: &Participant{Identity: &Identity{URI: "sip:1002@example.com"}, Target: &Target{URI: "sip:1002@10.0.0.2;transport=udp", Params: []Param{{"+sip.rendering", "yes"}}}},
	}}}
}

func TestBuildEachStateParsesBack(t *testing.T) {
	var seq Sequence
	for i, st := range []string{Early, Confirmed, Terminated} {
		in := sample(st)
		in.Version = seq.Next()
		if in.Version != uint32(i) {
			t.Fatalf("version %d, want %d", in.Version, i)
		}
		if st == Terminated {
			in.Dialogs[0].State.Event, in.Dialogs[0].State.Code = "remote-bye", 200
		}
		if st == Confirmed {
			d := uint32(12)
			in.Dialogs[0].Duration = &d
		}
		doc, err := Build(in)
		if err != nil {
			t.Fatal(err)
		}
		checkSchema(t, doc)
		if !bytes.HasPrefix(doc, []byte(`<?xml version="1.0" encoding="UTF-8"?>`+"\n"+`<dialog-info xmlns="urn:ietf:params:xml:ns:dialog-info" version="`+fmt.Sprint(i)+`" state="full" entity="sip:1001@example.com">`)) {
			t.Fatalf("head of\n%s", doc)
		}
		got, err := Parse(doc)
		if err != nil {
			t.Fatal(err)
		}
		in.XMLName = got.XMLName
		if diff := cmp.Diff(in, got); diff != "" {
			t.Fatal(diff)
		}
	}
}

// The example of RFC 4235 section 4.1, as another implementation writes it: indented, with a
// prefix-free default namespace, a trying state and a target parameter.
const rfcExample = `<?xml version="1.0"?>
<dialog-info xmlns="urn:ietf:params:xml:ns:dialog-info"
             version="0" state="full" entity="sip:alice@example.com">
  <dialog id="as7d900as8" call-id="a84b4c76e66710"
          local-tag="1928301774" direction="initiator">
    <state>trying</state>
  </dialog>
</dialog-info>
`

func TestParseRFCExample(t *testing.T) {
	checkSchema(t, []byte(rfcExample))
	got, err := Parse([]byte(rfcExample))
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != 0 || got.Entity != "sip:alice@example.com" || len(got.Dialogs) != 1 ||
		got.Dialogs[0].ID != "as7d900as8" || got.Dialogs[0].State.Value != Trying || got.Dialogs[0].Direction != Initiator {
		t.Fatalf("%+v", got)
	}
	// A prefixed namespace is the same document.
	prefixed := strings.NewReplacer(`xmlns=`, `xmlns:d=`, `<dialog`, `<d:dialog`, `</dialog`, `</d:dialog`, `<state>`, `<d:state>`, `</state>`, `</d:state>`).Replace(rfcExample)
	if _, err := Parse([]byte(prefixed)); err != nil {
		t.Fatalf("prefixed: %v", err)
	}
}

func TestRejects(t *testing.T) {
	for _, tc := range []struct{ name, doc string }{
		{"not xml", "<dialog-info"},
		{"wrong namespace", strings.Replace(rfcExample, "urn:ietf:params:xml:ns:dialog-info", "urn:example", 1)},
		{"no version", strings.Replace(rfcExample, `version="0" `, "", 1)},
		{"no entity", strings.Replace(rfcExample, ` entity="sip:alice@example.com"`, "", 1)},
		{"bad doc state", strings.Replace(rfcExample, `state="full"`, `state="most"`, 1)},
		{"bad dialog state", strings.Replace(rfcExample, "<state>trying", "<state>ringing", 1)},
		{"no id", strings.Replace(rfcExample, `id="as7d900as8" `, "", 1)},
		{"bad direction", strings.Replace(rfcExample, `"initiator"`, `"caller"`, 1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Parse([]byte(tc.doc)); !errors.Is(err, ErrInvalid) {
				t.Fatalf("accepted or wrong error: %v", err)
			}
		})
	}
	bad := sample(Early)
	bad.Dialogs = append(bad.Dialogs, bad.Dialogs[0])
	if _, err := Build(bad); !errors.Is(err, ErrInvalid) {
		t.Fatalf("repeated id: %v", err)
	}
	bad = sample(Early)
	bad.Dialogs[0].Remote.Target.URI = "not a uri"
	if _, err := Build(bad); !errors.Is(err, ErrInvalid) {
		t.Fatalf("bad target: %v", err)
	}
	bad = sample(Terminated)
	bad.Dialogs[0].State.Event = "hangup"
	if _, err := Build(bad); !errors.Is(err, ErrInvalid) {
		t.Fatalf("bad event: %v", err)
	}
}

func TestNoDialogsIsValid(t *testing.T) {
	doc, err := Build(Info{Version: 7, State: Full, Entity: "sip:1001@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	checkSchema(t, doc)
	if got, err := Parse(doc); err != nil || got.Version != 7 || len(got.Dialogs) != 0 {
		t.Fatalf("%+v %v", got, err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(rfcExample))
	doc, _ := Build(sample(Confirmed))
	f.Add(doc)
	f.Fuzz(func(t *testing.T, b []byte) {
		in, err := Parse(b)
		if err != nil {
			return
		}
		out, err := Build(in)
		if err != nil {
			t.Fatalf("parsed %+v does not build: %v", in, err)
		}
		if _, err := Parse(out); err != nil {
			t.Fatalf("built document does not parse: %v\n%s", err, out)
		}
	})
}
