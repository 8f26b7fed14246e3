package app_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	pionrtp "github.com/pion/rtp"

	"github.com/sidecar-voip/sidecar/app"
	"github.com/sidecar-voip/sidecar/dialplan"
	"github.com/sidecar-voip/sidecar/media"
	"github.com/sidecar-voip/sidecar/profile"
	"github.com/sidecar-voip/sidecar/request"
	"github.com/sidecar-voip/sidecar/rtp"
)

// channel is a test double of dialplan.Channel, whose real implementation is package sipsvc's
// job. Its media is real: Answer and Progress(183) open an rtp.Session on loopback with the
// peer's offer and the parameters of dialplan.MediaFor, as sipsvc does.
type channel struct {
	plane  *rtp.Engine
	offer  []byte
	codecs []string
	caller *profile.Profile

	mu       sync.Mutex
	sess     media.Session
	answered bool
}

var _ dialplan.Channel = (*channel)(nil)

func (c *channel) Request() *request.Request    { return nil }
func (c *channel) Caller() *profile.Profile     { return c.caller }
func (c *channel) Callee() *profile.Profile     { return nil }
func (c *channel) Hangup(context.Context) error { return nil }

func (c *channel) open(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sess != nil {
		return nil
	}
	// As sipsvc does: the parameters of dialplan.MediaFor (the test's codecs, when set, play
	// the caller profile's).
	p := dialplan.MediaFor(c.caller, nil)
	p.CallID, p.Offer = "test", c.offer
	if c.codecs != nil {
		p.Codecs = c.codecs
	}
	s, err := c.plane.Open(ctx, p)
	if err != nil {
		return err
	}
	c.sess = s
	return nil
}

func (c *channel) Progress(ctx context.Context, code int) error {
	if code == 183 {
		return c.open(ctx)
	}
	return nil
}

func (c *channel) Answer(ctx context.Context) error {
	if err := c.open(ctx); err != nil {
		return err
	}
	c.mu.Lock()
	c.answered = true
	c.mu.Unlock()
	return nil
}

func (c *channel) Answered() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.answered
}

func (c *channel) Media() media.Session {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sess
}

func (c *channel) session() *rtp.Session { return c.Media().(*rtp.Session) }

// env is one call: an engine, a peer socket, the channel, the registry with the media apps.
type env struct {
	t    *testing.T
	peer *net.UDPConn
	ch   *channel
	reg  *dialplan.Registry
	call *dialplan.Call
	seq  uint16
}

func newEnv(t *testing.T, formats string, attrs ...string) *env {
	t.Helper()
	peer, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { peer.Close() })
	probe, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	base := probe.LocalAddr().(*net.UDPAddr).Port
	probe.Close()
	cfg := rtp.DefaultConfig()
	cfg.PortMin, cfg.PortMax = base+base%2, base+base%2+41
	plane, err := rtp.NewEngine(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { plane.Close() })
	var b strings.Builder
	fmt.Fprintf(&b, "v=0\r\no=peer 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio %d RTP/AVP %s\r\n", peer.LocalAddr().(*net.UDPAddr).Port, formats)
	for _, a := range attrs {
		b.WriteString(a + "\r\n")
	}
	ch := &channel{plane: plane, offer: []byte(b.String())}
	reg := dialplan.NewRegistry()
	if err := app.Register(reg, app.Deps{}); err != nil {
		t.Fatal(err)
	}
	return &env{t: t, peer: peer, ch: ch, reg: reg, call: &dialplan.Call{Channel: ch, Log: slog.New(slog.DiscardHandler)}}
}

// run runs one app with args.
func (e *env) run(ctx context.Context, name string, args ...string) (dialplan.Result, error) {
	a, ok := e.reg.Lookup(name)
	if !ok {
		e.t.Fatalf("app %s not registered", name)
	}
	return a.Run(ctx, e.call, args)
}

// recvAll reads packets until quiet for gap.
func (e *env) recvAll(gap time.Duration) []*pionrtp.Packet {
	var out []*pionrtp.Packet
	buf := make([]byte, 1500)
	for {
		e.peer.SetReadDeadline(time.Now().Add(gap))
		n, err := e.peer.Read(buf)
		if err != nil {
			return out
		}
		p := &pionrtp.Packet{}
		if err := p.Unmarshal(append([]byte(nil), buf[:n]...)); err != nil {
			e.t.Fatal(err)
		}
		out = append(out, p)
	}
}

// send sends one RTP packet to the call's session.
func (e *env) send(pt uint8, marker bool, ts uint32, payload []byte) {
	pkt := pionrtp.Packet{Header: pionrtp.Header{Version: 2, PayloadType: pt, Marker: marker, SequenceNumber: e.seq, Timestamp: ts, SSRC: 4242}, Payload: payload}
	e.seq++
	b, _ := pkt.Marshal()
	dst := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(e.ch.session().Port()))
	if _, err := e.peer.WriteToUDPAddrPort(b, dst); err != nil {
		e.t.Fatal(err)
	}
}
