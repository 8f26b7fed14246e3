package sipsvc_test

import (
	"fmt"
	"net"
	"net/netip"
	"regexp"
	"strconv"
	"testing"
	"time"

	pionrtp "github.com/pion/rtp"
	"github.com/sidecar-voip/sidecar/rtp"
	"github.com/sidecar-voip/sidecar/sipsvc"
)

var mediaRE = regexp.MustCompile(`(?m)^m=audio (\d+) RTP/AVP`)

// With the real media plane (package rtp): the 200 carries its SDP, Echo sends our RTP back,
// and the caller's BYE releases the session.
func TestRealMediaPlaneEcho(t *testing.T) {
	engine, err := rtp.NewEngine(rtp.Config{
		PortMin: 31000, PortMax: 31998, Address: netip.MustParseAddr("127.0.0.1"),
		Bind: netip.MustParseAddr("127.0.0.1"), Symmetric: true,
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer engine.Close()
	e := startEnvOpts(t, nil, func(o *sipsvc.Options) { o.Media = engine })

	media, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer media.Close()
	port := media.LocalAddr().(*net.UDPAddr).Port
	offer := fmt.Sprintf("v=0\r\no=alice 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"+
		"m=audio %d RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n", port)

	u := newRawUAC(t, "127.0.0.1", e.udp)
	inv := msg{method: "INVITE", ruri: "sip:echo@" + e.udp.String(), toUser: "echo", body: offer,
		headers: []string{"X-Caller-Template: sub"}}
	u.send(u.text(&inv))
	ok := u.final(3 * time.Second)
	if ok.StatusCode != 200 {
		t.Fatalf("got %d, want 200", ok.StatusCode)
	}
	u.send(u.ackFor(inv, ok))
	m := mediaRE.FindSubmatch(ok.Body())
	if m == nil {
		t.Fatalf("200 OK without an audio m= line:\n%s", ok.Body())
	}
	rport, _ := strconv.Atoi(string(m[1]))
	if rport < 31000 || rport > 31998 {
		t.Fatalf("media port %d outside the plane's range", rport)
	}
	if engine.Active() != 1 {
		t.Errorf("engine has %d sessions, want 1", engine.Active())
	}

	// 20 ms of PCMU silence, a few times: Echo sends it back.
	dst := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: rport}
	payload := make([]byte, 160)
	for i := range payload {
		payload[i] = 0xff
	}
	got := make(chan struct{}, 1)
	go func() {
		buf := make([]byte, 1500)
		media.SetReadDeadline(time.Now().Add(3 * time.Second))
		for {
			n, err := media.Read(buf)
			if err != nil {
				return
			}
			var p pionrtp.Packet
			if p.Unmarshal(buf[:n]) == nil && p.PayloadType == 0 {
				got <- struct{}{}
				return
			}
		}
	}()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	echoed := false
	for i := 0; i < 100 && !echoed; i++ {
		pkt := pionrtp.Packet{Header: pionrtp.Header{Version: 2, PayloadType: 0, SequenceNumber: uint16(i),
			Timestamp: uint32(160 * i), SSRC: 0x1234}, Payload: payload}
		b, _ := pkt.Marshal()
		media.WriteToUDP(b, dst)
		select {
		case <-got:
			echoed = true
		case <-tick.C:
		}
	}
	if !echoed {
		t.Error("no RTP echoed back")
	}

	bye := inv
	bye.method, bye.body, bye.branch, bye.cseq, bye.toTag = "BYE", "", "", 2, tagOf(ok)
	u.send(u.text(&bye))
	if res := u.final(2 * time.Second); res.StatusCode != 200 {
		t.Fatalf("BYE: got %d", res.StatusCode)
	}
	waitFor(t, 3*time.Second, "media session released", func() bool { return engine.Active() == 0 })
}
