package sdp

import (
	"net/netip"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/tools/txtar"
)

// peerOffers are offers as real peers write them; each must take parseFast.
var peerOffers = map[string]string{
	"sipp": "v=0\r\no=user1 53655765 2353687637 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" +
		"m=audio 6000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n",
	"bench": "v=0\r\no=alice 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" +
		"m=audio 6000 RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\n",
	"baresip": "v=0\r\no=- 907195410 1481279785 IN IP4 192.0.2.7\r\ns=-\r\nc=IN IP4 192.0.2.7\r\nt=0 0\r\n" +
		"m=audio 10120 RTP/AVP 9 0 8 101\r\nb=AS:64\r\na=rtpmap:9 G722/8000\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n" +
		"a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=sendrecv\r\na=label:1\r\na=ssrc:3471532733 cname:x@y\r\na=rtcp-rsize\r\na=ptime:20\r\n",
	"phone-ipv6": "v=0\r\no=phone 1 2 IN IP6 2001:db8::7\r\ns=call\r\nc=IN IP6 2001:db8::7\r\nb=CT:384\r\nt=0 0\r\na=sendrecv\r\n" +
		"m=audio 4000 RTP/AVP 96 97 0 18 101\r\na=rtpmap:96 opus/48000/2\r\na=fmtp:96 minptime=10;useinbandfec=1\r\n" +
		"a=rtpmap:97 AMR-WB/16000\r\na=rtpmap:101 telephone-event/48000\r\na=fmtp:18 annexb=no\r\na=rtcp:4001\r\na=ptime:30\r\n",
	"hold-media-c": "v=0\r\no=- 1 3 IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\nm=audio 4000 RTP/AVP 8\r\nc=IN IP4 0.0.0.0\r\na=inactive\r\n",
	"lf-only":      "v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nc=IN IP4 192.0.2.1\nt=0 0\nm=audio 4000 RTP/AVP 0 101\na=rtpmap:101 telephone-event/8000\na=fmtp:101 0-16\n",
	"no-audio":     "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=video 5000 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n",
	"webrtc": "v=0\r\no=- 46117317 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\na=msid-semantic: WMS\r\n" +
		"m=audio 9 UDP/TLS/RTP/SAVPF 111 0\r\nc=IN IP4 0.0.0.0\r\na=rtcp:9 IN IP4 0.0.0.0\r\na=mid:0\r\na=rtpmap:111 opus/48000/2\r\n",
	"rtcp-addr": "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\na=rtcp:4005 IN IP4 5.6.7.8\r\n",
	"audio-after-video": "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\nt=0 0\r\nm=video 0 RTP/AVP 31\r\nm=audio 0 RTP/AVP 0\r\n" +
		"m=audio 4002 RTP/AVP 3 0\r\na=recvonly\r\nm=audio 4004 RTP/AVP 8\r\na=sendonly\r\nm=text 5000 RTP/AVP 98\r\nm=application 5002 TCP/MSRP *\r\n",
}

// fastCorpus returns the offers above, those of the golden answers and of this package's
// tests, and many variants of each: line ends, spacing, order, values parseFast must read
// like pion or hand to it.
func fastCorpus(t *testing.T) [][]byte {
	var base []string
	for _, o := range peerOffers {
		base = append(base, o)
	}
	base = append(base, offerAV)
	files, _ := filepath.Glob(filepath.Join("testdata", "answer", "*.txtar"))
	for _, file := range files {
		ar, err := txtar.ParseFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range ar.Files {
			if f.Name == "offer" {
				base = append(base, strings.ReplaceAll(string(f.Data), "\n", "\r\n"))
			}
		}
	}
	values := map[string][]string{
		"a=rtpmap:": {"96 opus/48000/2", "96  opus/48000", "096 opus/48000", " 96 opus/48000", "96 opus/+48000", "96 opus/48000/02",
			"96 opus/48000/9", "96 opus/0", "96 opus/1000001", "101 telephone-event/16000", "101 TELEPHONE-EVENT/8000", "0 pcmu/8000",
			"8 PCMA/8000/1", "96 opus/48000/", "96 /8000", "96 opus", "128 opus/48000", "96 op us/8000", "96 opus/48000 ", "96\topus/48000",
			"0 PCMU/8000\u00a0", "96 G726-32/8000", "0 PCMU/08000"},
		"a=fmtp:":  {"101 0-15", "101  0-15 ", "101", "x 0-15", "0101 0-11", "101\t0-15", "200 0-15", "96 a=b; c=d"},
		"a=ptime:": {"20", " 20", "0020", "0", "1001", "x", "", "10000"},
		"a=rtcp:":  {"4001", "4001 IN IP4 10.0.0.1", "0", "x", "4001 IN IP6 ::1", "4001  IN IP4 10.0.0.1"},
		"c=": {"IN IP4 0.0.0.0", "IN IP4 01.2.3.4", "IN IP4 1.2.3", "IN IP4 256.1.1.1", "IN IP4 1.2.3.4.", "IN IP4 .1.2.3",
			"IN IP6 ::1", "IN IP4 ::ffff:1.2.3.4", "IN IP4 host.example", "IN IP4 1.2.3.4/127", "IN IP4", "IN  IP4 1.2.3.4",
			"IN IP4 1.2.3.4 ", "IN IP5 1.2.3.4", "ATM IP4 1.2.3.4", "IN IP6 fe80::1%eth0", "IN IP4 255.255.255.255", "IN IP4 1..2.3"},
		"m=audio ": {"4000 RTP/AVP 0", "4000 RTP/AVP", "4000 RTP/AVP ", "4000/2 RTP/AVP 0", "+4000 RTP/AVP 0", "65536 RTP/AVP 0",
			"0 RTP/AVP 0", "00000 RTP/AVP 0", "4000 RTP/AVPX 0", "4000 RTP//AVP 0", "4000 RTP/AVP 0  8", "4000 RTP/AVP 0\t8",
			"4000 RTP/AVP 00 8", "4000 RTP/AVP x", "4000 RTP/AVP 96", "4000 RTP/AVP 300", "4000 RTP/SAVP 0", "4000 RTP/AVP 0 0"},
		"o=": {"- 1 1 IN IP4 1.2.3.4", "- x 1 IN IP4 1.2.3.4", "- 1 1 IN IP4", "- 1 1 IN", "-  1 1 IN IP4 1.2.3.4", "- 1 1 IN IP7 a"},
		"t=": {"0 0", "0", "0 0 0", "x 0", "3034423619 3042462419"},
		"b=": {"AS:64", "X-YZ:1", "AS:", "AS:x", "AS:1:2", "ZZ:1"},
		"v=": {"0", "1", "00", ""},
	}
	lineEnds := []string{"\r\n", "\n", "\r\r\n", "\r"}
	var out [][]byte
	for _, b := range base {
		out = append(out, []byte(b))
		lines := strings.Split(strings.TrimSuffix(b, "\r\n"), "\r\n")
		join := func(ls []string, end string) []byte { return []byte(strings.Join(ls, end) + end) }
		for _, end := range lineEnds {
			out = append(out, join(lines, end))
		}
		out = append(out, []byte(strings.TrimSuffix(b, "\r\n")), []byte(strings.TrimSuffix(b, "\n")))
		for i := range lines {
			mod := func(f func(ls []string) []string) {
				ls := append([]string(nil), lines...)
				out = append(out, join(f(ls), "\r\n"))
			}
			mod(func(ls []string) []string { return append(ls[:i], ls[i+1:]...) })
			mod(func(ls []string) []string { return append(ls[:i+1], ls[i:]...) })
			mod(func(ls []string) []string { return append(ls[:i+1], append([]string{""}, ls[i+1:]...)...) })
			mod(func(ls []string) []string { ls[i] += " "; return ls })
			mod(func(ls []string) []string { ls[i] = strings.Replace(ls[i], " ", "  ", 1); return ls })
			mod(func(ls []string) []string { ls[i] = strings.Replace(ls[i], " ", "\t", 1); return ls })
			mod(func(ls []string) []string { ls[i] = strings.Replace(ls[i], "=", "= ", 1); return ls })
			mod(func(ls []string) []string { ls[i] = strings.Replace(ls[i], "=", ":", 1); return ls })
			mod(func(ls []string) []string { ls[i] = strings.ToUpper(ls[i][:1]) + ls[i][1:]; return ls })
			for _, extra := range []string{"b=AS:64", "a=sendonly", "a=inactive", "c=IN IP4 192.0.2.99", "i=info", "k=prompt", "r=7d 1h 0 25h", "x=1", "a=ptime:40", "a=rtcp:9"} {
				mod(func(ls []string) []string { return append(ls[:i+1], append([]string{extra}, ls[i+1:]...)...) })
			}
			if i+1 < len(lines) {
				mod(func(ls []string) []string { ls[i], ls[i+1] = ls[i+1], ls[i]; return ls })
			}
			for prefix, vs := range values {
				if !strings.HasPrefix(lines[i], prefix) {
					continue
				}
				for _, v := range vs {
					mod(func(ls []string) []string { ls[i] = prefix + v; return ls })
				}
			}
		}
	}
	return out
}

var cmpAddr = cmp.Options{cmp.Comparer(func(a, b netip.Addr) bool { return a == b }), cmp.Comparer(func(a, b netip.AddrPort) bool { return a == b })}

// TestParseFastMatchesPion is the differential test of the hand parser: wherever parseFast
// reads a body, pion's parser (parsePion) reads it too, to the same Description.
func TestParseFastMatchesPion(t *testing.T) {
	fast, slow := 0, 0
	for _, body := range fastCorpus(t) {
		d, ok := parseFast(body)
		want, err := parsePion(body)
		if !ok {
			slow++
			continue
		}
		fast++
		if err != nil {
			t.Errorf("parseFast read what pion refuses (%v):\n%q", err, body)
			continue
		}
		if diff := cmp.Diff(want, d, cmpAddr); diff != "" {
			t.Errorf("parseFast differs from pion (-pion +fast):\n%s\n%q", diff, body)
		}
	}
	t.Logf("%d bodies read by parseFast, %d left to pion", fast, slow)
	if fast < 500 || slow < 500 {
		t.Errorf("corpus too narrow: %d fast, %d left to pion", fast, slow)
	}
}

// TestParseFastReadsPeerOffers checks that real peers' offers take the hand parser.
func TestParseFastReadsPeerOffers(t *testing.T) {
	for name, o := range peerOffers {
		if _, ok := parseFast([]byte(o)); !ok {
			t.Errorf("%s: left to pion", name)
		}
	}
}

// FuzzParseFastMatchesPion: whatever parseFast reads, pion reads to the same Description.
func FuzzParseFastMatchesPion(f *testing.F) {
	for _, o := range peerOffers {
		f.Add([]byte(o))
	}
	f.Add([]byte(offerAV))
	f.Fuzz(func(t *testing.T, body []byte) {
		d, ok := parseFast(body)
		if !ok {
			return
		}
		want, err := parsePion(body)
		if err != nil {
			t.Fatalf("parseFast read what pion refuses (%v)", err)
		}
		if diff := cmp.Diff(want, d, cmpAddr); diff != "" {
			t.Fatalf("parseFast differs from pion (-pion +fast):\n%s", diff)
		}
	})
}

// TestParseFastAllocations checks that parsing an offer allocates only what the Description
// keeps: its strings are shared constants (m-line names, payload types, encodings, common
// fmtp), so a kept Description pins no copy of the body either.
func TestParseFastAllocations(t *testing.T) {
	body := []byte(peerOffers["baresip"])
	if _, ok := parseFast(body); !ok {
		t.Fatal("left to pion")
	}
	// The Description, its Streams, the m-line's format list, the audio Formats.
	if allocs := testing.AllocsPerRun(50, func() { parseFast(body) }); allocs > 4 {
		t.Errorf("parseFast: %v allocations, want <= 4", allocs)
	}
}
