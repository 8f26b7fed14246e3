package mwi

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sidecar-voip/sidecar/voicemail"
)

// A mailbox's counts convert to MWI counts as they are.
var _ = Counts(voicemail.Counts{})

// The bodies of RFC 3842 (section 3.5 and the examples of section 6), with CRLF line ends.
var rfcBodies = []struct {
	name string
	body string
	want Summary
}{
	{"section 3.5", "Messages-Waiting: yes\r\nMessage-Account: sip:alice@vmail.example.com\r\nVoice-Message: 2/8 (0/2)\r\n",
		Summary{Waiting: true, Account: "sip:alice@vmail.example.com", Lines: []Line{{Class: Voice, Counts: Counts{2, 8, 0, 2}, Urgent: true}}}},
	{"with message headers",
		"Messages-Waiting: yes\r\nMessage-Account: sip:alice@vmail.example.com\r\nVoice-Message: 4/8 (1/2)\r\n\r\n" +
			"To: <alice@atlanta.example.com>\r\nFrom: <bob@biloxi.example.com>\r\nSubject: carpool tomorrow?\r\n" +
			"Date: Sun, 09 Mar 2003 11:53:02 -0600\r\nPriority: normal\r\nMessage-ID: 13784434989@vmail.example.com\r\n",
		Summary{Waiting: true, Account: "sip:alice@vmail.example.com", Lines: []Line{{Class: Voice, Counts: Counts{4, 8, 1, 2}, Urgent: true}},
			Headers: []Header{{"To", "<alice@atlanta.example.com>"}, {"From", "<bob@biloxi.example.com>"}, {"Subject", "carpool tomorrow?"},
				{"Date", "Sun, 09 Mar 2003 11:53:02 -0600"}, {"Priority", "normal"}, {"Message-ID", "13784434989@vmail.example.com"}}}},
	{"nothing waiting", "Messages-Waiting: no\r\n", Summary{}},
	{"several classes", "Messages-Waiting: yes\r\nVoice-Message: 1/0\r\nFax-Message: 0/2\r\n",
		Summary{Waiting: true, Lines: []Line{{Class: Voice, Counts: Counts{New: 1}}, {Class: Fax, Counts: Counts{Old: 2}}}}},
}

func TestGolden(t *testing.T) {
	for _, tc := range rfcBodies {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse([]byte(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Fatal(diff)
			}
			out, err := Format(got)
			if err != nil {
				t.Fatal(err)
			}
			if string(out) != tc.body {
				t.Fatalf("formatted\n%q\nwant\n%q", out, tc.body)
			}
		})
	}
}

func TestForVoice(t *testing.T) {
	for _, tc := range []struct {
		c    Counts
		want string
	}{
		{Counts{}, "Messages-Waiting: no\r\nMessage-Account: sip:1001@example.com\r\nVoice-Message: 0/0 (0/0)\r\n"},
		{Counts{1, 0, 0, 0}, "Messages-Waiting: yes\r\nMessage-Account: sip:1001@example.com\r\nVoice-Message: 1/0 (0/0)\r\n"},
		{Counts{3, 5, 1, 2}, "Messages-Waiting: yes\r\nMessage-Account: sip:1001@example.com\r\nVoice-Message: 3/5 (1/2)\r\n"},
		{Counts{0, 5, 0, 2}, "Messages-Waiting: no\r\nMessage-Account: sip:1001@example.com\r\nVoice-Message: 0/5 (0/2)\r\n"},
	} {
		s := ForVoice("sip:1001@example.com", tc.c)
		b, err := Format(s)
		if err != nil || string(b) != tc.want {
			t.Errorf("%+v: %q %v, want %q", tc.c, b, err, tc.want)
		}
		if c, ok := s.Voice(); !ok || c != tc.c {
			t.Errorf("Voice() = %+v %v", c, ok)
		}
	}
}

func TestParseLenientWhereTheGrammarIs(t *testing.T) {
	got, err := Parse([]byte("messages-waiting :YES\r\nMessage-Account:\tsips:bob@example.com\r\nvoice-message: 3 / 4 ( 1 / 0 )\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := Summary{Waiting: true, Account: "sips:bob@example.com", Lines: []Line{{Class: Voice, Counts: Counts{3, 4, 1, 0}, Urgent: true}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatal(diff)
	}
}

func TestParseRejects(t *testing.T) {
	for _, tc := range []struct{ name, body, want string }{
		{"empty", "", "CRLF"},
		{"LF only", "Messages-Waiting: yes\n", "CRLF"},
		{"bare LF inside", "Messages-Waiting: yes\nVoice-Message: 1/0\r\n", "line 1: bare CR or LF"},
		{"status not first", "Voice-Message: 1/0\r\nMessages-Waiting: yes\r\n", "line 1: Voice-Message before Messages-Waiting"},
		{"status value", "Messages-Waiting: maybe\r\n", "want yes or no"},
		{"account late", "Messages-Waiting: yes\r\nVoice-Message: 1/0\r\nMessage-Account: sip:a@b\r\n", "line 3: Message-Account must follow"},
		{"account not a URI", "Messages-Waiting: yes\r\nMessage-Account: alice\r\n", "not a URI"},
		{"account with space", "Messages-Waiting: yes\r\nMessage-Account: sip:a b@c\r\n", "not a URI"},
		{"unknown class", "Messages-Waiting: yes\r\nPhoto-Message: 1/0\r\n", "unknown message class"},
		{"repeated class", "Messages-Waiting: yes\r\nVoice-Message: 1/0\r\nvoice-message: 1/0\r\n", "repeated"},
		{"no slash", "Messages-Waiting: yes\r\nVoice-Message: 1\r\n", "not new/old"},
		{"negative", "Messages-Waiting: yes\r\nVoice-Message: -1/0\r\n", "not digits"},
		{"too big", "Messages-Waiting: yes\r\nVoice-Message: 4294967296/0\r\n", "over 2^32-1"},
		{"unclosed", "Messages-Waiting: yes\r\nVoice-Message: 1/0 (0/0\r\n", "closing parenthesis"},
		{"urgent over total", "Messages-Waiting: yes\r\nVoice-Message: 1/0 (2/0)\r\n", "over the totals"},
		{"empty first line", "\r\nMessages-Waiting: yes\r\n", "line 1"},
		{"bad header after blank", "Messages-Waiting: yes\r\n\r\nnot a header\r\n", "line 3: want a header"},
		{"garbage", "Messages-Waiting: yes\r\n???\r\n", "line 2: want name: value"},
		{"oversized", "Messages-Waiting: yes\r\n" + strings.Repeat("X-A: b\r\n", MaxBody/8), "over"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.body))
			if !errors.Is(err, ErrSyntax) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestFormatRejects(t *testing.T) {
	for name, s := range map[string]Summary{
		"account":   {Account: "sip:a\r\nX: y"},
		"class":     {Lines: []Line{{Class: "photo-message"}}},
		"repeated":  {Lines: []Line{{Class: Voice}, {Class: Voice}}},
		"negative":  {Lines: []Line{{Class: Voice, Counts: Counts{New: -1}}}},
		"header":    {Headers: []Header{{"Subject", "a\r\nb"}}},
		"hdr name":  {Headers: []Header{{"Sub ject", "a"}}},
		"too large": {Lines: []Line{{Class: Voice, Counts: Counts{Old: 1 << 33}}}},
	} {
		if _, err := Format(s); !errors.Is(err, ErrSyntax) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, tc := range rfcBodies {
		f.Add([]byte(tc.body))
	}
	f.Add([]byte("messages-waiting :YES\r\nvoice-message: 3 / 4 ( 1 / 0 )\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := Parse(b)
		if err != nil {
			return
		}
		// What parses formats, and the formatted body parses to the same summary.
		out, err := Format(s)
		if err != nil {
			t.Fatalf("%+v does not format: %v", s, err)
		}
		again, err := Parse(out)
		if err != nil {
			t.Fatalf("%q does not parse: %v", out, err)
		}
		if diff := cmp.Diff(s, again); diff != "" {
			t.Fatal(diff)
		}
	})
}
