package fsstore

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sidecar-voip/sidecar/voicemail"
)

const goodMeta = `sidecar-voicemail 1
uid=9f86d081884c7d659a2feaa0c55ad015
time=2026-12-06T03:58:32.123456789Z
duration-ms=12340
codec=pcmu
urgent=yes
caller-id="sip:1001@example.com"
caller-name="Bob \"the builder\" é"
`

func TestParseMetaGood(t *testing.T) {
	m, err := parseMeta("x.txt", []byte(goodMeta))
	if err != nil {
		t.Fatal(err)
	}
	want := voicemail.Message{UID: "9f86d081884c7d659a2feaa0c55ad015", Time: time.Date(2026, 12, 6, 3, 58, 32, 123456789, time.UTC),
		Duration: 12340 * time.Millisecond, Codec: "pcmu", Urgent: true, CallerID: "sip:1001@example.com", CallerName: `Bob "the builder" é`}
	if diff := cmp.Diff(want, m); diff != "" {
		t.Fatal(diff)
	}
	again, err := parseMeta("y.txt", formatMeta(m))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(m, again); diff != "" {
		t.Fatal(diff)
	}
}

func TestParseMetaRejects(t *testing.T) {
	for _, tc := range []struct{ name, edit, want string }{
		{"header", "sidecar-voicemail 1\n->sidecar-voicemail 2\n", "x.txt:1:"},
		{"no final newline", "\"\n$->\"", "no line end"},
		{"unknown key", "codec=pcmu\n->codec=pcmu\ncolor=red\n", "x.txt:6: bad message metadata: unknown key"},
		{"twice", "codec=pcmu\n->codec=pcmu\ncodec=pcmu\n", "codec given twice"},
		{"missing", "urgent=yes\n->", "urgent missing"},
		{"codec", "codec=pcmu->codec=opus", "unknown codec"},
		{"urgent", "urgent=yes->urgent=1", "want yes or no"},
		{"duration", "duration-ms=12340->duration-ms=-1", "milliseconds"},
		{"duration zero pad", "duration-ms=12340->duration-ms=012340", "milliseconds"},
		{"time zone", "03:58:32.123456789Z->03:58:32+01:00", "RFC 3339 UTC"},
		{"uid", "uid=9f86->uid=XX86", "hex"},
		{"unquoted", `caller-id="sip:1001@example.com"->caller-id=sip:1001`, "quoted string"},
		{"non canonical quote", `caller-name="Bob \"the builder\" é"->caller-name="Bob \u00e9"`, "quoted string"},
		{"crlf", "\n->\r\n", ""},
		{"blank line", "codec=pcmu\n->codec=pcmu\n\n", "want key=value"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			from, to, _ := strings.Cut(tc.edit, "->")
			var in string
			if from == "\"\n$" {
				in = strings.TrimSuffix(goodMeta, "\n")
			} else {
				if !strings.Contains(goodMeta, from) {
					t.Fatalf("edit %q matches nothing", from)
				}
				in = strings.Replace(goodMeta, from, to, 1)
			}
			_, err := parseMeta("x.txt", []byte(in))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestFormatMetaClipsAndEscapes(t *testing.T) {
	m := voicemail.Message{UID: strings.Repeat("a", 32), Time: time.Unix(0, 0), Codec: "g722",
		CallerID: "line\nbreak\x00", CallerName: strings.Repeat("é", 1000) + "\xff"}
	got, err := parseMeta("x.txt", formatMeta(m))
	if err != nil {
		t.Fatal(err)
	}
	if got.CallerID != "line\nbreak\x00" || len(got.CallerName) > maxMetaStr || !strings.HasPrefix(got.CallerName, "éé") {
		t.Fatalf("got %+v", got)
	}
}

func FuzzParseMeta(f *testing.F) {
	f.Add([]byte(goodMeta))
	f.Add([]byte("sidecar-voicemail 1\n"))
	f.Add([]byte(strings.Replace(goodMeta, "urgent=yes", "urgent=no", 1)))
	f.Add([]byte("sidecar-voicemail 1\ncaller-id=\"\\xff\"\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := parseMeta("f.txt", b)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "f.txt:") {
				t.Fatalf("error without position: %v", err)
			}
			return
		}
		// What parses formats back to something that parses to the same message.
		again, err := parseMeta("g.txt", formatMeta(m))
		if err != nil {
			t.Fatalf("formatted %+v does not parse: %v", m, err)
		}
		if !again.Time.Equal(m.Time) {
			t.Fatalf("time %v became %v", m.Time, again.Time)
		}
		again.Time = m.Time
		if diff := cmp.Diff(m, again); diff != "" {
			t.Fatal(diff)
		}
	})
}
