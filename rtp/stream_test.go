package rtp_test

import (
	"context"
	"io"
	"testing"
	"time"

	pionrtp "github.com/pion/rtp"

	"github.com/sidecar-voip/sidecar/rtp/dtmf"
)

// sent is one packet the peer received, with its arrival time.
type sent struct {
	*pionrtp.Packet
	at time.Time
}

// collect reads packets until none arrives for quiet.
func collect(p *peer, quiet time.Duration) []sent {
	var out []sent
	for {
		pkt, at, err := p.recv(quiet)
		if err != nil {
			return out
		}
		out = append(out, sent{pkt, at})
	}
}

// checkStream checks what every sender must keep: one SSRC, sequence +1 per packet, timestamps
// never going back, and timestamps within a second of the wall clock (8 kHz).
func checkStream(t *testing.T, pkts []sent) {
	t.Helper()
	for i := 1; i < len(pkts); i++ {
		a, b := pkts[i-1], pkts[i]
		if b.SSRC != a.SSRC || b.SequenceNumber != a.SequenceNumber+1 {
			t.Errorf("packet %d: ssrc %x seq %d after ssrc %x seq %d", i, b.SSRC, b.SequenceNumber, a.SSRC, a.SequenceNumber)
		}
		if d := int32(b.Timestamp - a.Timestamp); d < 0 {
			t.Errorf("packet %d: timestamp %d goes back from %d", i, b.Timestamp, a.Timestamp)
		}
		wall := int64(b.at.Sub(pkts[0].at)) * 8000 / int64(time.Second)
		if d := int64(int32(b.Timestamp-pkts[0].Timestamp)) - wall; d > 8000 || d < -8000 {
			t.Errorf("packet %d: timestamp %d is %d units off the wall clock", i, b.Timestamp, d)
		}
	}
}

// silence is a Source of n frames of silence.
type silence struct{ n int }

func (s *silence) ReadFrame(f []int16) (int, error) {
	if s.n <= 0 {
		return 0, io.EOF
	}
	s.n--
	clear(f)
	return len(f), nil
}

// TestStreamStartsAtRandomTimestamp: the first packet of a call does not start at a fixed
// timestamp (the old "never back in time" guard started half the calls at 160).
func TestStreamStartsAtRandomTimestamp(t *testing.T) {
	e := newEngine(t, 1, nil)
	p := newPeer(t)
	seen := map[uint32]bool{}
	for i := 0; i < 8; i++ {
		s := open(t, e, p.offer("0"))
		if err := s.Play(context.Background(), &silence{n: 1}); err != nil {
			t.Fatal(err)
		}
		pkt, _, err := p.recv(time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if pkt.Timestamp == 160 || seen[pkt.Timestamp] {
			t.Errorf("call %d starts at timestamp %d", i, pkt.Timestamp)
		}
		seen[pkt.Timestamp] = true
		s.Close()
	}
}

// TestDTMFDuringPlayKeepsOneTimeline: an event sent during a playback takes its timestamp
// from the same clock as the audio, and the audio resumes after it at the clock with the
// marker bit.
func TestDTMFDuringPlayKeepsOneTimeline(t *testing.T) {
	e := newEngine(t, 1, nil)
	p := newPeer(t)
	s := open(t, e, p.offer("0 101", "a=rtpmap:101 telephone-event/8000"))
	done := make(chan error, 1)
	go func() { done <- s.Play(context.Background(), &silence{n: 30}) }()
	// The event starts once the playback is under way: after 5 of its 30 packets arrived (a
	// fixed sleep here could fall before the first packet or after the last on a loaded machine).
	var pkts []sent
	for range 5 {
		pkt, at, err := p.recv(5 * time.Second)
		if err != nil {
			t.Fatal(err)
		}
		pkts = append(pkts, sent{pkt, at})
	}
	if err := s.SendDTMF(context.Background(), '5', 100*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	pkts = append(pkts, collect(p, 200*time.Millisecond)...)
	checkStream(t, pkts)
	var evTS uint32
	var lastAudio, firstAfter *sent
	var events int
	for i := range pkts {
		switch pk := &pkts[i]; {
		case pk.PayloadType == 101:
			if events == 0 {
				evTS = pk.Timestamp
				if lastAudio == nil || pk.Timestamp-lastAudio.Timestamp < 160 {
					t.Errorf("event at %d does not follow the audio", pk.Timestamp)
				}
			}
			events++
		case events > 0 && firstAfter == nil:
			firstAfter = pk
		case events == 0:
			lastAudio = pk
		}
	}
	if events != 8 || firstAfter == nil {
		t.Fatalf("%d event packets, audio after the event: %v", events, firstAfter != nil)
	}
	if !firstAfter.Marker || firstAfter.Timestamp-evTS < 800 {
		t.Errorf("audio resumes at %d (marker %v) after an event of 800 units at %d", firstAfter.Timestamp, firstAfter.Marker, evTS)
	}
	if n := len(pkts) - events; n != 30 {
		t.Errorf("%d audio packets, want 30", n)
	}
}

// TestSendDTMFCancelledSendsEnd: a SendDTMF cancelled part-way still ends the event with
// three end packets (RFC 4733 section 2.5.1.4).
func TestSendDTMFCancelledSendsEnd(t *testing.T) {
	e := newEngine(t, 1, nil)
	p := newPeer(t)
	s := open(t, e, p.offer("0 101", "a=rtpmap:101 telephone-event/8000"))
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := s.SendDTMF(ctx, '7', 2*time.Second); err != context.DeadlineExceeded {
		t.Fatalf("SendDTMF: %v", err)
	}
	pkts := collect(p, 200*time.Millisecond)
	checkStream(t, pkts)
	if len(pkts) < 4 {
		t.Fatalf("%d packets", len(pkts))
	}
	var ends int
	var last dtmf.Event
	for i, pk := range pkts {
		ev, err := dtmf.ParseEvent(pk.Payload)
		if err != nil || ev.Code != 7 || pk.Timestamp != pkts[0].Timestamp {
			t.Fatalf("packet %d: %+v %v ts %d", i, ev, err, pk.Timestamp)
		}
		if ev.End {
			ends++
		} else if ends > 0 {
			t.Errorf("packet %d: event continues after its end", i)
		}
		last = ev
	}
	if ends != 3 || last.Duration >= 16000 {
		t.Errorf("%d end packets, last duration %d", ends, last.Duration)
	}
	// The session is free for the next digit.
	if err := s.SendDTMF(context.Background(), '8', 40*time.Millisecond); err != nil {
		t.Errorf("next SendDTMF: %v", err)
	}
}

// TestEchoContinuesStream: echo after a playback continues the session's stream clock (no jump
// to an unrelated offset) with the marker bit, then follows the caller's timestamps.
func TestEchoContinuesStream(t *testing.T) {
	e := newEngine(t, 1, nil)
	p := newPeer(t)
	s := open(t, e, p.offer("0"))
	if err := s.Play(context.Background(), &silence{n: 5}); err != nil {
		t.Fatal(err)
	}
	startEcho(t, s)
	for i := 0; i < 10; i++ {
		p.send(s, 0, false, uint32(7_000_000+160*i), make([]byte, 160))
		time.Sleep(20 * time.Millisecond)
	}
	pkts := collect(p, 200*time.Millisecond)
	if len(pkts) != 15 {
		t.Fatalf("%d packets, want 5 played and 10 echoed", len(pkts))
	}
	checkStream(t, pkts)
	if first := pkts[5]; !first.Marker || pkts[6].Marker {
		t.Errorf("echo markers %v %v, want the first only", first.Marker, pkts[6].Marker)
	}
	for i := 6; i < 15; i++ {
		if d := pkts[i].Timestamp - pkts[i-1].Timestamp; d != 160 {
			t.Errorf("echoed packet %d: ts +%d, want the caller's +160", i-5, d)
		}
	}
}

// TestHoldDoesNotAdvanceSequence: packets not sent while the call is held use no sequence
// numbers; the first packet after the resume carries the marker.
func TestHoldDoesNotAdvanceSequence(t *testing.T) {
	e := newEngine(t, 1, nil)
	p := newPeer(t)
	s := open(t, e, p.offer("0"))
	go s.Play(context.Background(), &silence{n: 100})
	first, at, err := p.recv(time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetRemote(p.offer("0", "a=sendonly")); err != nil {
		t.Fatal(err)
	}
	before := append([]sent{{first, at}}, collect(p, 200*time.Millisecond)...) // and any in flight
	if _, err := s.SetRemote(p.offer("0")); err != nil {
		t.Fatal(err)
	}
	after, _, err := p.recv(time.Second)
	if err != nil {
		t.Fatal(err)
	}
	last := before[len(before)-1]
	if after.SequenceNumber != last.SequenceNumber+1 || !after.Marker {
		t.Errorf("after hold: seq %d marker %v, last before %d", after.SequenceNumber, after.Marker, last.SequenceNumber)
	}
	if d := after.Timestamp - last.Timestamp; d < 160*10 {
		t.Errorf("after 200 ms of hold the timestamp moved only %d", d)
	}
}
