package rtp_test

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/zaf/g711"

	"github.com/sidecar-voip/sidecar/media"
	"github.com/sidecar-voip/sidecar/rtp"
	"github.com/sidecar-voip/sidecar/rtp/dtmf"
)

func nextDigit(t *testing.T, s *rtp.Session, wait time.Duration) (media.Digit, bool) {
	t.Helper()
	select {
	case d := <-s.Digits():
		return d, true
	case <-time.After(wait):
		return media.Digit{}, false
	}
}

func TestRFC4733DigitsOnce(t *testing.T) {
	e := newEngine(t, 1, nil)
	p := newPeer(t)
	s := open(t, e, p.offer("0 101", "a=rtpmap:101 telephone-event/8000"))
	for i, code := range []uint8{5, 11} {
		ts := uint32(8000 + 4000*i)
		for j, dur := range []uint16{160, 320, 480} {
			p.send(s, 101, j == 0, ts, dtmf.Event{Code: code, Volume: 10, Duration: dur}.Append(nil))
		}
		for range 3 { // end packet, sent three times
			p.send(s, 101, false, ts, dtmf.Event{Code: code, End: true, Volume: 10, Duration: 640}.Append(nil))
		}
	}
	for _, want := range "5#" {
		d, ok := nextDigit(t, s, time.Second)
		if !ok {
			t.Fatalf("digit %q not received", want)
		}
		if d.Digit != want || d.Duration != 80*time.Millisecond || d.Source != media.SourceRFC4733 {
			t.Errorf("got %+v, want %q for 80ms by rfc4733", d, want)
		}
	}
	if d, ok := nextDigit(t, s, 100*time.Millisecond); ok {
		t.Errorf("extra digit %+v", d)
	}
}

func TestDTMFModeFilters(t *testing.T) {
	e := newEngine(t, 1, nil)
	p := newPeer(t)
	s := open(t, e, p.offer("0 101", "a=rtpmap:101 telephone-event/8000"))
	s.SetDTMFMode("info")
	p.send(s, 101, true, 100, dtmf.Event{Code: 1, End: true, Duration: 400}.Append(nil))
	// The event is filtered while the mode is still info: on a loaded machine it could
	// otherwise be read only after the switch to rfc2833 below and pass as a digit.
	waitProcessed(t, s, 1)
	s.InjectDTMF('2', 100*time.Millisecond)
	d, ok := nextDigit(t, s, time.Second)
	if !ok || d.Digit != '2' || d.Source != media.SourceInfo {
		t.Fatalf("got %+v %v, want the INFO digit 2 only", d, ok)
	}
	if d, ok := nextDigit(t, s, 100*time.Millisecond); ok {
		t.Errorf("rfc4733 digit %+v passed the info filter", d)
	}
	s.SetDTMFMode("rfc2833")
	s.InjectDTMF('3', 0)
	p.send(s, 101, true, 900, dtmf.Event{Code: 4, End: true, Duration: 400}.Append(nil))
	if d, ok := nextDigit(t, s, time.Second); !ok || d.Digit != '4' {
		t.Errorf("got %+v %v, want rfc4733 digit 4", d, ok)
	}
}

func TestInbandDigits(t *testing.T) {
	e := newEngine(t, 1, nil)
	p := newPeer(t)
	s := open(t, e, p.offer("0"))
	s.SetDTMFMode("inband")
	// '8' = 852 Hz + 1336 Hz for 100 ms, then silence, as mu-law packets.
	ts := uint32(0)
	for i := 0; i < 10; i++ {
		payload := make([]byte, 160)
		for j := range payload {
			n := float64(i*160 + j)
			v := 0.0
			if i < 5 {
				v = 5000 * (math.Sin(2*math.Pi*852*n/8000) + math.Sin(2*math.Pi*1336*n/8000))
			}
			payload[j] = g711.EncodeUlawFrame(int16(v))
		}
		p.send(s, 0, i == 0, ts, payload)
		ts += 160
	}
	d, ok := nextDigit(t, s, time.Second)
	if !ok || d.Digit != '8' || d.Source != media.SourceInband {
		t.Fatalf("got %+v %v, want inband 8", d, ok)
	}
}

func TestSendDTMF(t *testing.T) {
	e := newEngine(t, 1, nil)
	p := newPeer(t)
	s := open(t, e, p.offer("0 96", "a=rtpmap:96 telephone-event/8000"))
	if err := s.SendDTMF(context.Background(), '9', 100*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	var events []dtmf.Event
	var ts uint32
	for i := 0; ; i++ {
		pkt, _, err := p.recv(200 * time.Millisecond)
		if err != nil {
			break
		}
		if pkt.PayloadType != 96 {
			t.Fatalf("packet %d: pt %d", i, pkt.PayloadType)
		}
		if i == 0 {
			ts = pkt.Timestamp
		} else if pkt.Timestamp != ts {
			t.Errorf("packet %d: timestamp changed within the event", i)
		}
		if pkt.Marker != (i == 0) {
			t.Errorf("packet %d: marker %v", i, pkt.Marker)
		}
		ev, err := dtmf.ParseEvent(pkt.Payload)
		if err != nil {
			t.Fatal(err)
		}
		events = append(events, ev)
	}
	// 100 ms at 20 ms ptime: durations 160..800, then the end packet three times.
	var ends int
	for _, ev := range events {
		if ev.Code != 9 {
			t.Errorf("event code %d", ev.Code)
		}
		if ev.End {
			ends++
			if ev.Duration != 800 {
				t.Errorf("end duration %d, want 800", ev.Duration)
			}
		}
	}
	if len(events) != 8 || ends != 3 {
		t.Errorf("%d packets with %d ends, want 8 with 3: %+v", len(events), ends, events)
	}
	s2 := open(t, e2(t), p.offer("0"))
	if err := s2.SendDTMF(context.Background(), '1', 0); err != media.ErrNoTelephoneEvent {
		t.Errorf("without telephone-event: %v", err)
	}
}

func e2(t *testing.T) *rtp.Engine { return newEngine(t, 1, nil) }
