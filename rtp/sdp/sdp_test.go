package sdp

import (
	"net/netip"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const offerAV = "v=0\r\no=alice 2890844526 2890844526 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\n" +
	"m=audio 49170 RTP/AVP 9 0 8 18 96 101\r\na=rtpmap:96 opus/48000/2\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=ptime:30\r\n" +
	"m=video 51372 RTP/AVP 99\r\na=rtpmap:99 H264/90000\r\n"

func TestParse(t *testing.T) {
	d, err := Parse([]byte(offerAV))
	if err != nil {
		t.Fatal(err)
	}
	want := &Description{
		Streams: []Stream{
			{Media: "audio", Port: 49170, Proto: "RTP/AVP", Formats: []string{"9", "0", "8", "18", "96", "101"}},
			{Media: "video", Port: 51372, Proto: "RTP/AVP", Formats: []string{"99"}},
		},
		Audio: 0, Addr: netip.MustParseAddr("192.0.2.10"), Port: 49170, Direction: SendRecv, Ptime: 30,
		Formats: []Format{
			{PT: 9, Name: "g722", Encoding: "G722", ClockRate: 8000, Channels: 1},
			{PT: 0, Name: "pcmu", Encoding: "PCMU", ClockRate: 8000, Channels: 1},
			{PT: 8, Name: "pcma", Encoding: "PCMA", ClockRate: 8000, Channels: 1},
			{PT: 18, Name: "g729", Encoding: "G729", ClockRate: 8000, Channels: 1},
			{PT: 96, Name: "opus", Encoding: "opus", ClockRate: 48000, Channels: 2},
			{PT: 101, Name: "telephone-event", Encoding: "telephone-event", ClockRate: 8000, Channels: 1, Fmtp: "0-15"},
		},
	}
	if diff := cmp.Diff(want, d, cmp.Comparer(func(a, b netip.Addr) bool { return a == b }), cmp.Comparer(func(a, b netip.AddrPort) bool { return a == b })); diff != "" {
		t.Errorf("Parse (-want +got):\n%s", diff)
	}
}

func TestParseRTCPAttribute(t *testing.T) {
	base := "v=0\r\no=- 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\nm=audio 49170 RTP/AVP 0\r\n"
	for _, tc := range []struct {
		attr, want string
		ok         bool
	}{
		{"", "invalid AddrPort", true},
		{"a=rtcp:53020\r\n", "192.0.2.10:53020", true},
		{"a=rtcp:53020 IN IP4 198.51.100.7\r\n", "198.51.100.7:53020", true},
		{"a=rtcp:53020 IN IP6 2001:db8::1\r\n", "[2001:db8::1]:53020", true},
		{"a=rtcp:0\r\n", "", false},
		{"a=rtcp:53020 IN IP4\r\n", "", false},
		{"a=rtcp:53020 IN IP4 example.com\r\n", "", false},
	} {
		d, err := Parse([]byte(base + tc.attr))
		if (err == nil) != tc.ok {
			t.Errorf("%q: err %v", tc.attr, err)
			continue
		}
		if err == nil && d.RTCP.String() != tc.want {
			t.Errorf("%q: RTCP %s, want %s", tc.attr, d.RTCP, tc.want)
		}
	}
}

func TestNegotiate(t *testing.T) {
	d, err := Parse([]byte(offerAV))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		codecs []string
		want   string // names in order, or "error"
	}{
		{[]string{"pcma", "pcmu"}, "pcma/8,pcmu/0,telephone-event/101"},
		{[]string{"opus", "pcmu"}, "opus/96,pcmu/0,telephone-event/101"},
		{[]string{"g729"}, "g729/18,telephone-event/101"},
		// No list: the default of media/codecs, the profile's documented pcmu, pcma.
		{nil, "pcmu/0,pcma/8,telephone-event/101"},
		{[]string{"gsm"}, "error"},
		{[]string{"telephone-event"}, "error"},
	} {
		got, err := Negotiate(d, tc.codecs)
		var s []string
		for _, f := range got {
			s = append(s, f.Name+"/"+strconv.Itoa(int(f.PT)))
		}
		g := strings.Join(s, ",")
		if err != nil {
			g = "error"
		}
		if g != tc.want {
			t.Errorf("Negotiate(%v) = %s (%v), want %s", tc.codecs, g, err, tc.want)
		}
	}
}

func TestAnswerRefusesVideoInPlace(t *testing.T) {
	d, err := Parse([]byte(offerAV))
	if err != nil {
		t.Fatal(err)
	}
	fs, err := Negotiate(d, []string{"pcmu"})
	if err != nil {
		t.Fatal(err)
	}
	l := Local{SessionID: 7, Version: 1, Addr: netip.MustParseAddr("198.51.100.1"), Port: 20000, Formats: fs,
		Direction: d.Direction.Reverse(), Ptime: 20, Streams: d.Streams, Audio: d.Audio}
	got := string(l.Marshal())
	want := "v=0\r\no=sidecar 7 1 IN IP4 198.51.100.1\r\ns=sidecar\r\nc=IN IP4 198.51.100.1\r\nt=0 0\r\n" +
		"m=audio 20000 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=ptime:20\r\na=sendrecv\r\n" +
		"m=video 0 RTP/AVP 99\r\n"
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("answer (-want +got):\n%s", diff)
	}
	back, err := Parse([]byte(got))
	if err != nil || back.Audio != 0 || back.Streams[1].Port != 0 {
		t.Errorf("answer does not parse back: %v %+v", err, back)
	}
}

func TestParseErrors(t *testing.T) {
	for name, body := range map[string]string{
		"empty":       "",
		"garbage":     "hello",
		"no m-line":   "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nt=0 0\r\n",
		"no c-line":   "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n",
		"bad address": "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 example.com\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n",
		"bad pt":      "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\nt=0 0\r\nm=audio 4000 RTP/AVP 300\r\n",
		"bad rtpmap":  "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\nt=0 0\r\nm=audio 4000 RTP/AVP 96\r\na=rtpmap:96 opus\r\n",
		"bad ptime":   "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\na=ptime:x\r\n",
		"huge":        strings.Repeat("a", maxSize+1),
	} {
		if _, err := Parse([]byte(body)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// FuzzAnswer feeds arbitrary bodies through the whole answer path: Parse, Negotiate and
// Marshal must never panic, and an accepted offer yields an answer that parses back.
func FuzzAnswer(f *testing.F) {
	f.Add([]byte(offerAV))
	f.Add([]byte("v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0 8\r\na=sendonly\r\n"))
	f.Add([]byte("v=0\r\no=- 1 1 IN IP6 ::1\r\ns=-\r\nc=IN IP6 ::1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 96\r\na=rtpmap:96 PCMU/8000\r\n"))
	f.Add([]byte("v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\na=rtcp:4005 IN IP4 5.6.7.8\r\n"))
	f.Fuzz(func(t *testing.T, body []byte) {
		d, err := Parse(body)
		if err != nil {
			return
		}
		fs, err := Negotiate(d, []string{"pcmu", "pcma", "g722", "opus"})
		if err != nil {
			return
		}
		l := Local{Addr: netip.MustParseAddr("127.0.0.1"), Port: 20000, Formats: fs, Direction: d.Direction.Reverse(), Streams: d.Streams, Audio: d.Audio}
		if _, err := Parse(l.Marshal()); err != nil {
			t.Fatalf("answer does not parse: %v\n%s", err, l.Marshal())
		}
	})
}
