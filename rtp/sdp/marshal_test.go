package sdp

import (
	"net/netip"
	"strconv"
	"strings"
	"testing"
)

// marshalRef is Local.Marshal as it was written before AppendTo (strings joined in a
// strings.Builder): the reference of TestMarshalMatchesReference.
func marshalRef(l *Local) []byte {
	var b strings.Builder
	ipv := "IP4"
	if l.Addr.Is6() {
		ipv = "IP6"
	}
	addr := l.Addr.String()
	line := func(parts ...string) {
		for _, p := range parts {
			b.WriteString(p)
		}
		b.WriteString("\r\n")
	}
	audio := func() {
		pts := make([]string, len(l.Formats))
		for i, f := range l.Formats {
			pts[i] = strconv.Itoa(int(f.PT))
		}
		line("m=audio ", strconv.Itoa(l.Port), " RTP/AVP ", strings.Join(pts, " "))
		for _, f := range l.Formats {
			enc := f.Encoding + "/" + strconv.Itoa(f.ClockRate)
			if f.Channels > 1 {
				enc += "/" + strconv.Itoa(f.Channels)
			}
			line("a=rtpmap:", strconv.Itoa(int(f.PT)), " ", enc)
			if f.Fmtp != "" {
				line("a=fmtp:", strconv.Itoa(int(f.PT)), " ", f.Fmtp)
			}
		}
		if l.Ptime > 0 {
			line("a=ptime:", strconv.Itoa(l.Ptime))
		}
		dir := l.Direction
		if dir == "" {
			dir = SendRecv
		}
		line("a=", string(dir))
	}
	line("v=0")
	line("o=sidecar ", strconv.FormatUint(l.SessionID, 10), " ", strconv.FormatUint(l.Version, 10), " IN ", ipv, " ", addr)
	line("s=sidecar")
	line("c=IN ", ipv, " ", addr)
	line("t=0 0")
	if len(l.Streams) == 0 {
		audio()
		return []byte(b.String())
	}
	for i, s := range l.Streams {
		if i == l.Audio {
			audio()
			continue
		}
		formats := s.Formats
		if len(formats) == 0 {
			formats = []string{"0"}
		}
		line("m=", s.Media, " 0 ", s.Proto, " ", strings.Join(formats, " "))
	}
	return []byte(b.String())
}

// TestMarshalMatchesReference compares Marshal with the reference writer, byte for byte, on
// the answers to every offer of the parser corpus under several codec lists, and on offers.
func TestMarshalMatchesReference(t *testing.T) {
	addrs := []netip.Addr{netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("2001:db8::1"), {}}
	lists := [][]string{nil, {"pcmu"}, {"opus", "g722", "pcma"}, {"g729", "gsm", "pcmu"}}
	n := 0
	check := func(l Local) {
		n++
		if got, want := string(l.Marshal()), string(marshalRef(&l)); got != want {
			t.Errorf("Marshal differs:\n got %q\nwant %q", got, want)
		}
		if got := string(l.AppendTo([]byte("x"))); got != "x"+string(marshalRef(&l)) {
			t.Errorf("AppendTo differs: %q", got)
		}
	}
	for i, body := range fastCorpus(t) {
		d, err := Parse(body)
		if err != nil {
			continue
		}
		for j, codecs := range lists {
			fs, err := Negotiate(d, codecs)
			if err != nil {
				continue
			}
			check(Local{SessionID: uint64(i) << 40, Version: uint64(j), Addr: addrs[(i+j)%len(addrs)], Port: 20000 + i,
				Formats: fs, Direction: d.Direction.Reverse(), Ptime: d.Ptime, Streams: d.Streams, Audio: d.Audio})
		}
	}
	for _, codecs := range lists {
		fs, err := OfferFormats(codecs)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range addrs {
			check(Local{SessionID: 1<<63 + 5, Version: 1, Addr: a, Port: 65534, Formats: fs, Ptime: 20})
			check(Local{Addr: a, Formats: fs, Direction: Inactive, Streams: []Stream{{Media: "video", Proto: "RTP/AVP"}, {Media: "audio"}}, Audio: 1})
		}
	}
	if n < 1000 {
		t.Errorf("only %d answers compared", n)
	}
}
