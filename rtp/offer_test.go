package rtp_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sidecar-voip/sidecar/rtp"
	"github.com/sidecar-voip/sidecar/rtp/sdp"
)

const video = "m=video 4002 RTP/AVP 96\r\na=rtpmap:96 H264/90000"

// TestReofferMustNotDropMLines: RFC 3264 section 8: a re-offer with fewer m-lines than the
// session is refused with 488 and changes nothing; our own re-offer keeps every m-line.
func TestReofferMustNotDropMLines(t *testing.T) {
	e := newEngine(t, 1, nil)
	p := newPeer(t)
	s := open(t, e, p.offer("0", video))
	before := s.LocalSDP()
	_, err := s.SetRemote(p.offer("0", "a=sendonly"))
	wantStatus(t, err, 488)
	if !errors.Is(err, rtp.ErrFewerStreams) || s.OnHold() || string(s.LocalSDP()) != string(before) {
		t.Errorf("refused re-offer changed the session: %v, hold %v", err, s.OnHold())
	}
	ans, err := s.SetRemote(p.offer("0", "a=sendonly", video))
	if err != nil || !s.OnHold() || strings.Count(string(ans), "m=") != 2 {
		t.Fatalf("re-offer with both m-lines: %v hold %v\n%s", err, s.OnHold(), ans)
	}
	offer, err := s.SetRemote(nil)
	if err != nil {
		t.Fatal(err)
	}
	d, err := sdp.Parse(offer)
	if err != nil || len(d.Streams) != 2 || d.Audio != 0 || d.Streams[1].Port != 0 {
		t.Fatalf("our re-offer: %v\n%s", err, offer)
	}
	_, err = s.SetRemote(p.offer("0"))
	wantStatus(t, err, 488) // an answer with one m-line to an offer of two
}

// TestReinviteWithoutSDPGetsOffer: a re-INVITE without SDP (SetRemote(nil)) on an established,
// held session gets a fresh sendrecv offer on the session's port; the ACK's answer resumes the
// call at the answer's address.
func TestReinviteWithoutSDPGetsOffer(t *testing.T) {
	e := newEngine(t, 1, nil)
	p, moved := newPeer(t), newPeer(t)
	s := open(t, e, p.offer("0 8"), "pcma", "pcmu")
	if _, err := s.SetRemote(p.offer("0 8", "a=sendonly")); err != nil || !s.OnHold() {
		t.Fatalf("hold: %v", err)
	}
	offer, err := s.SetRemote(nil)
	if err != nil {
		t.Fatal(err)
	}
	d, err := sdp.Parse(offer)
	if err != nil {
		t.Fatalf("%v\n%s", err, offer)
	}
	var names []string
	for _, f := range d.Formats {
		names = append(names, f.Name)
	}
	if d.Direction != sdp.SendRecv || d.Port != s.Port() || strings.Join(names, ",") != "pcma,pcmu,telephone-event" {
		t.Errorf("offer: direction %s port %d (ours %d) formats %v", d.Direction, d.Port, s.Port(), names)
	}
	out, err := s.SetRemote(moved.offer("8"))
	if err != nil || out != nil {
		t.Fatalf("answer: %q %v", out, err)
	}
	if s.OnHold() || s.Codec() != "pcma" {
		t.Errorf("after the answer: hold %v codec %s", s.OnHold(), s.Codec())
	}
	go s.Play(t.Context(), &silence{n: 1})
	if pkt, _, err := moved.recv(time.Second); err != nil || pkt.PayloadType != 8 {
		t.Fatalf("audio to the answer's address: %v %v", pkt, err)
	}
}

// TestLateOfferWithoutAnswer: an ACK without SDP after a late offer is a 488, the next SDP is
// taken as a new offer (not as the answer), and without a route the inactivity timeout still
// ends the session.
func TestLateOfferWithoutAnswer(t *testing.T) {
	e := newEngine(t, 1, func(c *rtp.Config) { c.Timeout = 300 * time.Millisecond })
	p := newPeer(t)
	s := open(t, e, nil, "pcmu")
	out, err := s.SetRemote(nil)
	wantStatus(t, err, 488)
	if !errors.Is(err, rtp.ErrNoAnswer) || out != nil {
		t.Errorf("SetRemote(nil) awaiting the answer: %q %v", out, err)
	}
	select {
	case <-s.Done():
	case <-time.After(3 * time.Second):
		t.Fatal("session without a route never timed out")
	}
	s2 := open(t, newEngine(t, 1, nil), nil, "pcmu")
	s2.SetRemote(nil)
	ans, err := s2.SetRemote(p.offer("0"))
	if err != nil || !strings.Contains(string(ans), "m=audio ") {
		t.Errorf("offer after the failed late offer: %q %v", ans, err)
	}
}
