package sipsvc

import (
	"errors"
	"testing"

	"github.com/emiago/sipgo/sip"
	"github.com/google/go-cmp/cmp"
)

// fakeBody is a message body with its Content-Type, as sdpOf reads it.
type fakeBody struct {
	ct   string
	body []byte
}

func (f fakeBody) Body() []byte { return f.body }
func (f fakeBody) ContentType() *sip.ContentTypeHeader {
	if f.ct == "" {
		return nil
	}
	h := sip.ContentTypeHeader(f.ct)
	return &h
}

const testSDP = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"

func TestSDPOf(t *testing.T) {
	mp := "--b\r\nContent-Type: application/ISUP;version=itu-t92+\r\n\r\nxx\r\n--b\r\nContent-Type: application/sdp\r\n\r\n" +
		testSDP + "\r\n--b--\r\n"
	for _, tc := range []struct {
		name, ct, body string
		want           string
		wantErr        bool
	}{
		{"no body", "", "", "", false},
		{"blank body", "application/sdp", "\r\n", "", false},
		{"sdp", "application/sdp", testSDP, testSDP, false},
		{"sdp with params", "Application/SDP; charset=utf-8", testSDP, testSDP, false},
		{"multipart, sdp second", "multipart/mixed; boundary=b", mp, testSDP, false},
		{"multipart without boundary", "multipart/mixed", mp, "", true},
		{"multipart without sdp", "multipart/mixed;boundary=b", "--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b--\r\n", "", true},
		{"no content type", "", testSDP, "", true},
		{"text", "text/plain", "hi", "", true},
		{"garbage content type", ";;;", "x", "", true},
	} {
		got, err := sdpOf(fakeBody{tc.ct, []byte(tc.body)})
		if (err != nil) != tc.wantErr {
			t.Errorf("%s: error %v, want error %v", tc.name, err, tc.wantErr)
			continue
		}
		if err != nil && !errors.Is(err, errUnsupportedBody) {
			t.Errorf("%s: error %v is not errUnsupportedBody", tc.name, err)
		}
		if diff := cmp.Diff(tc.want, string(got)); diff != "" {
			t.Errorf("%s: SDP (-want +got):\n%s", tc.name, diff)
		}
	}
}

// FuzzSDPOf: any Content-Type and body gives SDP or errUnsupportedBody, never a panic.
func FuzzSDPOf(f *testing.F) {
	f.Add("application/sdp", testSDP)
	f.Add("multipart/mixed;boundary=b", "--b\r\nContent-Type: application/sdp\r\n\r\n"+testSDP+"\r\n--b--\r\n")
	f.Add("multipart/mixed;boundary=b", "--b\r\n\r\n--b")
	f.Add("text/plain", "x")
	f.Fuzz(func(t *testing.T, ct, body string) {
		got, err := sdpOf(fakeBody{ct, []byte(body)})
		if err != nil && !errors.Is(err, errUnsupportedBody) {
			t.Fatalf("error %v is not errUnsupportedBody", err)
		}
		if err == nil && len(got) > len(body)+2 {
			t.Fatalf("SDP of %d bytes out of a %d-byte body", len(got), len(body))
		}
	})
}
