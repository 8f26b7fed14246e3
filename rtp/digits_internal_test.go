package rtp

import (
	"context"
	"testing"
	"time"

	"github.com/sidecar-voip/sidecar/media"
)

func openInternal(t *testing.T) *Session {
	t.Helper()
	cfg := DefaultConfig()
	cfg.PortMin, cfg.PortMax = 41200, 41219
	e, err := NewEngine(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	offer := []byte("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 9 RTP/AVP 0\r\n")
	ms, err := e.Open(context.Background(), media.Params{CallID: t.Name(), Offer: offer})
	if err != nil {
		t.Fatal(err)
	}
	return ms.(*Session)
}

// TestDigitsBeforeAnyApp: a digit that arrives before any app listens is queued for the next
// one (the queue is made by the digit).
func TestDigitsBeforeAnyApp(t *testing.T) {
	s := openInternal(t)
	if s.digits.queue(false) != nil {
		t.Fatal("a new session has a digit queue: it should be made on first use")
	}
	s.InjectDTMF('5', 100*time.Millisecond)
	select {
	case d := <-s.Digits():
		if d.Digit != '5' {
			t.Fatalf("digit %q, want '5'", d.Digit)
		}
	default:
		t.Fatal("the digit that came before any app was not queued")
	}
}

// TestEchoWithoutDigitQueue: Echo on a session no app asked digits of ends on '#' and drops the
// digits before it; the digits after the '#' are queued for the next app.
func TestEchoWithoutDigitQueue(t *testing.T) {
	s := openInternal(t)
	done := make(chan error, 1)
	go func() { done <- s.Echo(context.Background()) }()
	for { // until Echo waits for '#'
		s.digits.mu.Lock()
		waiting := s.digits.hash != nil
		s.digits.mu.Unlock()
		if waiting {
			break
		}
		time.Sleep(time.Millisecond)
	}
	s.InjectDTMF('1', 0)
	s.InjectDTMF('#', 0)
	s.InjectDTMF('9', 0) // after the '#': for the next app, even before Echo has returned
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Echo: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Echo did not end on '#'")
	}
	s.InjectDTMF('7', 0)
	for _, want := range []rune{'9', '7'} {
		select {
		case d := <-s.Digits():
			if d.Digit != want {
				t.Fatalf("digit %q after Echo, want %q", d.Digit, want)
			}
		default:
			t.Fatalf("digit %q after Echo's '#' was not queued", want)
		}
	}
}
