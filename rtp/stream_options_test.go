package rtp_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sidecar-voip/sidecar/media"
	"github.com/sidecar-voip/sidecar/rtp"
)

func TestEchoPassthroughCodec(t *testing.T) {
	e := newEngine(t, 1, nil)
	p := newPeer(t)
	s := open(t, e, p.offer("18 0", "a=rtpmap:18 G729/8000"), "g729", "pcmu")
	if s.Codec() != "g729" {
		t.Fatalf("codec %q", s.Codec())
	}
	if s.SampleRate() != 8000 {
		t.Errorf("SampleRate %d: playback should fall back to PCMU", s.SampleRate())
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go s.Echo(ctx)
	waitEcho(t, s)
	p.send(s, 18, true, 80, []byte("0123456789"))
	pkt, _, err := p.recv(time.Second)
	if err != nil || pkt.PayloadType != 18 || string(pkt.Payload) != "0123456789" {
		t.Fatalf("echo of G.729: %v %v", pkt, err)
	}
	only := open(t, newEngine(t, 1, nil), p.offer("18"), "g729")
	if err := only.Play(context.Background(), &pcm{make([]int16, 160)}); err != media.ErrNoEncoder {
		t.Errorf("Play with only G.729: %v, want ErrNoEncoder", err)
	}
}

func TestPtime30(t *testing.T) {
	e := newEngine(t, 1, nil)
	p := newPeer(t)
	s := open(t, e, p.offer("0", "a=ptime:30"))
	if want := "a=ptime:30\r\n"; !contains(s.LocalSDP(), want) {
		t.Errorf("answer lacks %q", want)
	}
	go s.Play(context.Background(), &pcm{make([]int16, 2400)}) // 300 ms
	var n int
	var last uint32
	for {
		pkt, _, err := p.recv(200 * time.Millisecond)
		if err != nil {
			break
		}
		if len(pkt.Payload) != 240 || n > 0 && pkt.Timestamp-last != 240 {
			t.Errorf("packet %d: %d bytes, ts +%d", n, len(pkt.Payload), pkt.Timestamp-last)
		}
		last = pkt.Timestamp
		n++
	}
	if n != 10 {
		t.Errorf("%d packets, want 10", n)
	}
}

func TestAsymmetricSendsToSDPAddress(t *testing.T) {
	e := newEngine(t, 1, func(c *rtp.Config) { c.Symmetric = false })
	p, other := newPeer(t), newPeer(t)
	s := open(t, e, p.offer("0"))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go s.Echo(ctx)
	waitEcho(t, s)
	other.send(s, 0, true, 160, make([]byte, 160)) // from a source the SDP does not name
	if _, _, err := p.recv(time.Second); err != nil {
		t.Fatalf("echo did not go to the SDP address: %v", err)
	}
	if _, _, err := other.recv(50 * time.Millisecond); err == nil {
		t.Error("echo went to the packet's source despite symmetric = no")
	}
}

func contains(b []byte, s string) bool { return strings.Contains(string(b), s) }
