package profile

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestCheckSIPURI(t *testing.T) {
	tests := []struct {
		in      string
		wantErr string
	}{
		{in: "sip:alice@example.com"},
		{in: "sip:example.com"},
		{in: "SIPS:alice@10.0.0.1:5061;transport=tls"},
		{in: "sip:alice:secret@example.com:5060?subject=x"},
		{in: "sip:alice@[2001:db8::1]:5060;transport=udp"},
		{in: "sip:alice@[2001:db8::1]"},
		{in: "sip:alice@example.com."},
		{in: "tel:+15551234", wantErr: "not a sip: or sips: URI"},
		{in: "alice@example.com", wantErr: "not a sip: or sips: URI"},
		{in: "sip:", wantErr: "has no host"},
		{in: "sip:alice@", wantErr: "has no host"},
		{in: "sip:@example.com", wantErr: "empty user part"},
		{in: "sip:alice@exa mple.com", wantErr: "not allowed"},
		{in: "sip:alice@example.com:0", wantErr: "out of range"},
		{in: "sip:alice@example.com:65536", wantErr: "out of range"},
		{in: "sip:alice@example.com:", wantErr: "empty port"},
		{in: "sip:alice@[2001:db8::1", wantErr: "unclosed ["},
		{in: "sip:alice@[10.0.0.1]", wantErr: "not an IPv6 address"},
		{in: "sip:alice@[::1]x", wantErr: "unexpected"},
		{in: "sip:alice@-bad-.com", wantErr: "not a domain name"},
		{in: "sip:alice@exa_mple.com", wantErr: "not a domain name"},
		{in: "sip:alice@a..b", wantErr: "not a domain name"},
		{in: "sip:a@" + strings.Repeat("a", 1100), wantErr: "longer than"},
	}
	for _, tt := range tests {
		err := checkSIPURI(tt.in)
		if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("checkSIPURI(%q) = %v, want error containing %q", tt.in, err, tt.wantErr)
		}
	}
}

func TestParseCallerID(t *testing.T) {
	tests := []struct {
		in      string
		want    CallerID
		wantErr bool
	}{
		{in: `"Alice Smith" <1001>`, want: CallerID{Name: "Alice Smith", Number: "1001"}},
		{in: `Alice <+1555>`, want: CallerID{Name: "Alice", Number: "+1555"}},
		{in: `<1001>`, want: CallerID{Number: "1001"}},
		{in: `"Alice" <>`, want: CallerID{Name: "Alice"}},
		{in: `1001`, want: CallerID{Number: "1001"}},
		{in: `anonymous`, want: CallerID{Number: "anonymous"}},
		{in: ``, want: CallerID{}},
		{in: `<>`, wantErr: true},
		{in: `Alice Smith`, wantErr: true},
		{in: `"Alice <1001>`, wantErr: true},
		{in: `Al"ice <1001>`, wantErr: true},
		{in: `Alice <1001`, wantErr: true},
		{in: `Alice <10<01>`, wantErr: true},
		{in: `Alice <1001> x`, wantErr: true},
		{in: "Alice\x00 <1001>", wantErr: true},
		{in: `"Bob \"The Builder\"" <1001>`, want: CallerID{Name: `Bob "The Builder"`, Number: "1001"}},
		{in: `"Smith, <Bob>" <1001>`, want: CallerID{Name: "Smith, <Bob>", Number: "1001"}},
		{in: `"back\\slash" <1001>`, want: CallerID{Name: `back\slash`, Number: "1001"}},
		{in: `"" <1001>`, want: CallerID{Number: "1001"}},
		{in: ` "Alice"<1001> `, want: CallerID{Name: "Alice", Number: "1001"}},
		{in: `"Bob "The Builder"" <1001>`, wantErr: true},
		{in: `"Bob \" <1001>`, wantErr: true},
		{in: `"Bob" 1001`, wantErr: true},
		{in: `"Bob" <10<01>`, wantErr: true},
		{in: `"Bob" <1001> x`, wantErr: true},
		{in: `"Bob"`, wantErr: true},
	}
	for _, tt := range tests {
		got, err := parseCallerID(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("parseCallerID(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
			continue
		}
		if diff := cmp.Diff(tt.want, got); !tt.wantErr && diff != "" {
			t.Errorf("parseCallerID(%q) (-want +got):\n%s", tt.in, diff)
		}
	}
}

func TestParseBoolAndDTMF(t *testing.T) {
	for in, want := range map[string]bool{"yes": true, "YES": true, "true": true, "On": true, "1": true, "no": false, "false": false, "off": false, "0": false, "": false} {
		if got, err := parseBool(in); err != nil || got != want {
			t.Errorf("parseBool(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"y", "2", "maybe", " yes"} {
		if _, err := parseBool(in); err == nil {
			t.Errorf("parseBool(%q) accepted", in)
		}
	}
	for in, want := range map[string]DTMFMode{"rfc4733": DTMFRFC4733, "RFC2833": DTMFRFC4733, "": DTMFRFC4733, "info": DTMFInfo, "inband": DTMFInband, "auto": DTMFAuto} {
		if got, err := parseDTMF(in); err != nil || got != want {
			t.Errorf("parseDTMF(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := parseDTMF("sip-info"); err == nil {
		t.Error("parseDTMF(sip-info) accepted")
	}
}

func TestCodecs(t *testing.T) {
	type step struct {
		key, value string
	}
	tests := []struct {
		name    string
		steps   []step
		want    []string
		wantErr string
	}{
		{name: "allow appends missing", steps: []step{{"allow", "ulaw"}, {"allow", "alaw, ulaw,g722"}}, want: []string{"pcmu", "pcma", "g722"}},
		{name: "disallow all clears", steps: []step{{"allow", "ulaw,alaw"}, {"disallow", "all"}, {"allow", "opus"}}, want: []string{"opus"}},
		{name: "allow !all clears", steps: []step{{"allow", "ulaw,alaw"}, {"allow", "!all"}, {"allow", "gsm"}}, want: []string{"gsm"}},
		{name: "disallow removes", steps: []step{{"allow", "ulaw,alaw,g729"}, {"disallow", "g729"}}, want: []string{"pcmu", "pcma"}},
		{name: "bang inverts", steps: []step{{"allow", "ulaw,alaw,g729"}, {"allow", "!g729,opus"}, {"disallow", "!g722"}}, want: []string{"pcmu", "pcma", "opus", "g722"}},
		{name: "allow all", steps: []step{{"allow", "g729"}, {"allow", "all"}}, want: []string{"g729", "pcmu", "pcma", "g722", "opus", "gsm"}},
		{name: "disallow !all allows all", steps: []step{{"disallow", "!all"}}, want: []string{"pcmu", "pcma", "g722", "opus", "g729", "gsm"}},
		{name: "codecs replaces", steps: []step{{"allow", "g729"}, {"codecs", "alaw,ulaw,alaw"}}, want: []string{"pcma", "pcmu"}},
		{name: "aliases", steps: []step{{"codecs", "G711U,g711a,MuLaw"}}, want: []string{"pcmu", "pcma"}},
		{name: "unknown", steps: []step{{"allow", "speex"}}, wantErr: `unknown codec "speex"`},
		{name: "empty allow", steps: []step{{"allow", " , "}}, wantErr: "empty codec list"},
		{name: "codecs all", steps: []step{{"codecs", "all"}}, wantErr: "only meaningful"},
		{name: "nothing left", steps: []step{{"allow", "ulaw"}, {"disallow", "ulaw"}}, wantErr: "no codec left"},
		{name: "empty codecs", steps: []step{{"codecs", ""}}, wantErr: "no codec left"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := builder{p: &Profile{}}
			var err error
			for _, s := range tt.steps {
				k, key, lerr := lookupKey(s.key)
				if lerr != nil {
					t.Fatal(lerr)
				}
				if err = b.apply(k, key, s.value); err != nil {
					break
				}
			}
			if err == nil {
				err = b.finish()
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, b.p.Codecs); diff != "" {
				t.Errorf("codecs (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseSelection(t *testing.T) {
	tests := []struct {
		in      string
		want    Match
		wantErr string
	}{
		{in: "", want: Match{}},
		{in: "  ", want: Match{}},
		{in: ";user=alice", wantErr: "without a template name"},
		{in: ";x", wantErr: "without a template name"},
		{in: " ; ", wantErr: "without a template name"},
		{in: "subscriber", want: Match{Name: "subscriber"}},
		{in: " subscriber ; USER = alice ;; flag ;x=a=b", want: Match{Name: "subscriber", Params: map[string]string{"user": "alice", "flag": "", "x": "a=b"}}},
		{in: "tpl.v2_a-b;k=", want: Match{Name: "tpl.v2_a-b", Params: map[string]string{"k": ""}}},
		{in: "a b", wantErr: "not allowed"},
		{in: "{{ .CallID }}", wantErr: "not allowed"},
		{in: strings.Repeat("a", 65), wantErr: "longer than 64"},
		{in: "t;=x", wantErr: "without a name"},
		{in: "t;k!=x", wantErr: "not allowed"},
		{in: "t;k=a;K=b", wantErr: "given twice"},
		{in: "t;k=" + strings.Repeat("v", 257), wantErr: "template parameter k longer than 256"},
		{in: "t" + strings.Repeat(";k", 17), wantErr: "given twice"},
		{in: "t;a;b;c;d;e;f;g;h;i;j;k;l;m;n;o;p;q", wantErr: "more than 16"},
		{in: "t;k=a\x01", wantErr: "template parameter k contains control character"},
		{in: strings.Repeat("a", 600), wantErr: "longer than 512"},
	}
	for _, tt := range tests {
		got, err := ParseSelection(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, ErrInvalidValue) {
				t.Errorf("ParseSelection(%q) = %v, want ErrInvalidValue containing %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseSelection(%q): %v", tt.in, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("ParseSelection(%q) (-want +got):\n%s", tt.in, diff)
		}
	}
}

func TestSuggestKey(t *testing.T) {
	for in, want := range map[string]string{
		"codec": "codecs", "mailbox_id": "mailbox-id", "dtmfmode": "dtmf-mode", "contxt": "context",
		"mailbox": "mailbox-id", "set_var": "set-var", "calerid": "callerid", "zzzzzzzz": "",
	} {
		if got := suggestKey(in); got != want {
			t.Errorf("suggestKey(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestValueChecks(t *testing.T) {
	tests := []struct {
		key, value string
		wantErr    string
	}{
		{"user", "alice.smith+1", ""},
		{"user", "a b", "not allowed"},
		{"user", "a@b", "not allowed"},
		{"user", "é", "not allowed"},
		{"context", "from-internal_2.x", ""},
		{"context", "from internal", "not allowed"},
		{"mailbox-id", "1001@default", ""},
		{"mailbox-id", "1001/x", "not allowed"},
		{"mailbox-pin", "0123", ""},
		{"mailbox-pin", "12a", "digits only"},
		{"mailbox-pin", strings.Repeat("1", 33), "longer than 32"},
		{"language", "pt_BR", ""},
		{"language", "en us", "not allowed"},
		{"set-var", "A_1=x=y", ""},
		{"set-var", "=x", "want NAME=value"},
		{"set-var", "A-B=x", "not allowed"},
		{"x-note", "free text, anything", ""},
		{"x-note", "line\nbreak", "control character"},
	}
	for _, tt := range tests {
		k, key, err := lookupKey(tt.key)
		if err != nil {
			t.Fatal(err)
		}
		err = checkLiteral(k, key, tt.value)
		if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("%s = %q: err %v, want %q", tt.key, tt.value, err, tt.wantErr)
		}
	}
}

// FuzzParseCallerID checks that parseCallerID never panics and that a parsed name, quoted
// again the way [caller-endpoint] does it, reads back the same.
func FuzzParseCallerID(f *testing.F) {
	for _, s := range []string{`"Bob \"The Builder\"" <1001>`, `"Smith, <Bob>" <1>`, `Alice <+1555>`,
		`1001`, `"a\\b" <2>`, `"x`, `"" <>`, `<>`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, err := parseCallerID(s)
		if err != nil || id.Name == "" {
			return
		}
		esc := strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(id.Name)
		again, err := parseCallerID(`"` + esc + `" <` + id.Number + `>`)
		if err != nil {
			t.Fatalf("%q parsed to %+v, which does not read back: %v", s, id, err)
		}
		if again != id {
			t.Fatalf("%q: %+v read back as %+v", s, id, again)
		}
	})
}

// TestParseSelectionAllocs: a selection with parameters costs its map and nothing else (the
// error labels are built only for an error).
func TestParseSelectionAllocs(t *testing.T) {
	if n := testing.AllocsPerRun(100, func() { _, _ = ParseSelection("subscriber;ext=1001;pin=1234") }); n > 2 {
		t.Errorf("ParseSelection: %v allocations, want 2 (the parameters' map: its header and one group)", n)
	}
}
