package sipsvc_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"runtime"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	pionrtp "github.com/pion/rtp"
	"github.com/sidecar-voip/sidecar/config"
	"github.com/sidecar-voip/sidecar/internal/reliability"
	"github.com/sidecar-voip/sidecar/rtp"
	"github.com/sidecar-voip/sidecar/sipsvc"
	"github.com/sidecar-voip/sidecar/sipsvc/sipsvctest"
)

// The floods that must not hurt calls (issue 15): each throws one kind of traffic at a running
// service on loopback for floodSecs at a few thousand datagrams a second, from its own
// sockets, while SIPp places real calls that must all succeed (486 from the dialplan), then
// checks what the service did with the flood (answered, counted, dropped) and that the
// process is back near its baseline (goroutines, heap and RSS) once it is over.

const (
	floodSecs  = 10
	floodRate  = 3000 // datagrams per second
	floodCalls = 150  // SIPp calls placed during the flood (20/s: 7.5 s of it)
)

// processState is the test process's footprint: the service runs in it.
type processState struct {
	goroutines      int
	heapKiB, rssKiB int
}

// footprint measures the process after a GC that returns freed memory to the OS.
func footprint() processState {
	debug.FreeOSMemory()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return processState{goroutines: runtime.NumGoroutine(), heapKiB: int(m.HeapInuse >> 10), rssKiB: vmKiB("VmRSS")}
}

// rssPeak samples VmRSS every 50 ms until stop is called, which returns the peak in KiB.
func rssPeak() (stop func() int) {
	var peak atomic.Int64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			if v := int64(vmKiB("VmRSS")); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	return func() int {
		close(done)
		wg.Wait()
		return int(peak.Load())
	}
}

// flooder sends datagrams made by next from its own sockets (bound on ip) to dst at rate a
// second for secs, and reads what comes back to them.
type flooder struct {
	conns []*net.UDPConn
	sent  atomic.Int64
	// got counts the datagrams received back; status counts them by SIP status (0: not a
	// response).
	got    atomic.Int64
	mu     sync.Mutex
	status map[int]int
	wg     sync.WaitGroup
}

// newFlooder binds n sockets on ip and starts reading them; t's cleanup closes them.
func newFlooder(t *testing.T, ip string, n int) *flooder {
	t.Helper()
	f := &flooder{status: map[int]int{}}
	for range n {
		c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(ip)})
		if err != nil {
			t.Fatalf("bind %s: %v", ip, err)
		}
		c.SetReadBuffer(4 << 20)
		f.conns = append(f.conns, c)
		f.wg.Add(1)
		go func() {
			defer f.wg.Done()
			buf := make([]byte, 65536)
			for {
				k, err := c.Read(buf)
				if err != nil {
					return
				}
				f.got.Add(1)
				code := 0
				if k >= 12 && string(buf[:8]) == "SIP/2.0 " {
					code, _ = strconv.Atoi(string(buf[8:11]))
				}
				f.mu.Lock()
				f.status[code]++
				f.mu.Unlock()
			}
		}()
	}
	t.Cleanup(f.close)
	return f
}

func (f *flooder) close() {
	for _, c := range f.conns {
		c.Close()
	}
	f.wg.Wait()
}

// run sends next(i, conn) for i = 0, 1, ... to dst at rate datagrams a second until secs
// have passed or ctx ends, catching up after a late tick; it returns when done.
func (f *flooder) run(ctx context.Context, dst netip.AddrPort, rate int, secs float64,
	next func(i int, from netip.AddrPort) []byte) {
	start := time.Now()
	end := start.Add(time.Duration(secs * float64(time.Second)))
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	to := net.UDPAddrFromAddrPort(dst)
	i := 0
	for {
		now := time.Now()
		if !now.Before(end) {
			return
		}
		due := int(now.Sub(start).Seconds() * float64(rate))
		for ; i < due; i++ {
			c := f.conns[i%len(f.conns)]
			if _, err := c.WriteToUDP(next(i, c.LocalAddr().(*net.UDPAddr).AddrPort()), to); err == nil {
				f.sent.Add(1)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// drops is the kernel's count of datagrams dropped on the flooder's sockets (full receive
// buffers; /proc/net/udp).
func (f *flooder) drops() int {
	n := 0
	for _, c := range f.conns {
		n += udpSocketDrops(c.LocalAddr().(*net.UDPAddr).AddrPort().Port())
	}
	return n
}

// statuses returns a copy of the response counts by status.
func (f *flooder) statuses() map[int]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[int]int, len(f.status))
	for k, v := range f.status {
		out[k] = v
	}
	return out
}

// floodOutcome is what the common part of a flood test measured.
type floodOutcome struct {
	before, after processState
	peakRSS       int
	calls         int // SIPp calls placed during the flood, each answered 486
	elapsed       time.Duration
}

// underFlood runs flood (which must return by itself within about floodSecs) in the
// background while SIPp places floodCalls busy calls from 127.0.0.1 starting a second into
// it (runSipp fails the test unless every call gets its 486), then waits until the
// process's goroutines are back near their baseline, and measures the footprint.
func underFlood(t *testing.T, e *env, flood func(ctx context.Context)) floodOutcome {
	t.Helper()
	var o floodOutcome
	o.before = footprint()
	stopRSS := rssPeak()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	start := time.Now()
	go func() {
		defer close(done)
		flood(ctx)
	}()
	time.Sleep(time.Second) // the flood is running when the calls start
	callsBefore := e.srv.Stats().Rejected[486]
	runSipp(t, e, "busy.xml", "127.0.0.1", "busy", floodCalls)
	o.calls = int(e.srv.Stats().Rejected[486] - callsBefore)
	<-done
	o.elapsed = time.Since(start)
	o.peakRSS = stopRSS()
	if o.calls != floodCalls {
		t.Errorf("service answered %d of the %d SIPp calls 486", o.calls, floodCalls)
	}
	// Back near the baseline: the flood's goroutines (one per request in sipgo) are gone.
	waitFor(t, 10*time.Second, "goroutines back near their baseline", func() bool {
		return runtime.NumGoroutine() <= o.before.goroutines+5
	})
	o.after = footprint()
	const heapSlackKiB, rssSlackKiB = 16 << 10, 64 << 10
	if o.after.heapKiB > o.before.heapKiB+heapSlackKiB {
		t.Errorf("heap in use %d KiB after the flood, %d before: want within %d KiB", o.after.heapKiB, o.before.heapKiB, heapSlackKiB)
	}
	if o.after.rssKiB > o.before.rssKiB+rssSlackKiB {
		t.Errorf("RSS %d KiB after the flood, %d before: want within %d KiB", o.after.rssKiB, o.before.rssKiB, rssSlackKiB)
	}
	if st := e.srv.Stats(); st.Panics != 0 {
		t.Errorf("%d handler panics", st.Panics)
	}
	return o
}

// footprintText describes the footprint for a reliability row.
func (o floodOutcome) footprintText() string {
	return fmt.Sprintf("goroutines %d -> %d, heap in use %.1f -> %.1f MiB, RSS %d -> %d MiB (peak %d MiB)",
		o.before.goroutines, o.after.goroutines, float64(o.before.heapKiB)/1024, float64(o.after.heapKiB)/1024,
		o.before.rssKiB>>10, o.after.rssKiB>>10, o.peakRSS>>10)
}

// optionsText renders an out-of-dialog OPTIONS from from to dst with a fresh branch.
func optionsText(i int, from, dst netip.AddrPort) []byte {
	return fmt.Appendf(nil, "OPTIONS sip:%s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bK-flood-%d;rport\r\n"+
		"Max-Forwards: 70\r\nFrom: <sip:flood@%s>;tag=f%d\r\nTo: <sip:%s>\r\nCall-ID: flood-%d@%s\r\n"+
		"CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n", dst, from, i, from.Addr(), i, dst, i, from)
}

// An OPTIONS flood at floodRate/s for floodSecs: each OPTIONS answered (200, or 503 while
// the node sheds), the calls placed meanwhile unaffected.
func TestFloodOptions(t *testing.T) {
	sippBinary(t)
	e := floodEnv(t, trustLoopbackOnly, nil)
	f := newFlooder(t, "127.0.0.1", 4)
	sockBefore := udpSocketDrops(e.udp.Port())
	o := underFlood(t, e, func(ctx context.Context) {
		f.run(ctx, e.udp, floodRate, floodSecs, func(i int, from netip.AddrPort) []byte {
			return optionsText(i, from, e.udp)
		})
	})
	// Every OPTIONS answered, but for the datagrams the kernel dropped for a full receive
	// buffer (the service's or the flooder's: a loaded machine), which are counted.
	kernel := func() int64 { return int64(udpSocketDrops(e.udp.Port()) - sockBefore + f.drops()) }
	waitFor(t, 5*time.Second, "the answers to the flood", func() bool { return f.got.Load()+kernel() >= f.sent.Load() })
	sent, got, st := f.sent.Load(), f.got.Load(), f.statuses()
	if other := int(got) - st[200] - st[503]; other != 0 {
		t.Errorf("answers other than 200 or 503: %v", st)
	}
	dropped := kernel()
	if got+dropped < sent {
		t.Errorf("%d OPTIONS answered of %d sent (%d dropped by the kernel)", got, sent, dropped)
	}
	if t.Failed() {
		return
	}
	reliability.Log(t, reliability.Row{
		Test: "sipsvc TestFloodOptions",
		Thrown: fmt.Sprintf("OPTIONS flood from 4 sockets of 127.0.0.1 (trusted), %d/s for %d s (%d sent), while SIPp placed %d calls (20/s)",
			floodRate, floodSecs, sent, floodCalls),
		Did: fmt.Sprintf("answered every OPTIONS that reached it (%d 200, %d 503 while shedding; %d datagrams dropped by the "+
			"kernel for full receive buffers) and every call (486); %s", st[200], st[503], dropped, o.footprintText()),
		Lost: "nothing",
	})
}

// A flood of datagrams that are not SIP messages (random bytes, truncated INVITEs, 60 KB
// datagrams larger than the read buffer) and of framed but malformed requests: the first
// kinds discarded at the socket and counted, the last answered 400 by sipgo or dropped;
// nothing else answered, no panic, the calls unaffected.
func TestFloodGarbage(t *testing.T) {
	sippBinary(t)
	e := floodEnv(t, trustLoopbackOnly, nil)
	f := newFlooder(t, "127.0.0.1", 4)
	rng := rand.New(rand.NewPCG(1, 2))
	var mu sync.Mutex
	var unframed, framed atomic.Int64
	huge := make([]byte, 60000)
	sockBefore := udpSocketDrops(e.udp.Port())
	o := underFlood(t, e, func(ctx context.Context) {
		f.run(ctx, e.udp, floodRate, floodSecs, func(i int, from netip.AddrPort) []byte {
			mu.Lock()
			defer mu.Unlock()
			inv := fmt.Appendf(nil, "INVITE sip:busy@%s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bK-g%d;rport\r\n"+
				"From: <sip:g@%s>;tag=g%d\r\nTo: <sip:busy@%s>\r\nCall-ID: g%d\r\nCSeq: 1 INVITE\r\n"+
				"Contact: <sip:g@%s>\r\nX-Caller-Template: sub\r\nContent-Type: application/sdp\r\n"+
				"Content-Length: %d\r\n\r\n%s", e.udp, from, i, from.Addr(), i, e.udp, i, from, len(offerSDP), offerSDP)
			switch i % 6 {
			case 0, 1: // random bytes
				unframed.Add(1)
				b := make([]byte, 1+rng.IntN(1400))
				for k := range b {
					b[k] = byte(rng.Uint32())
				}
				return b
			case 2, 3: // an INVITE cut short (in its headers or its body)
				unframed.Add(1)
				return inv[:1+rng.IntN(len(inv)-1)]
			case 4: // larger than the read buffer
				unframed.Add(1)
				for k := range huge {
					huge[k] = byte(rng.Uint32())
				}
				copy(huge, inv)
				return huge
			default: // framed, but without CSeq
				framed.Add(1)
				return fmt.Appendf(nil, "INVITE sip:busy@%s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bK-b%d;rport\r\n"+
					"From: <sip:g@%s>;tag=b%d\r\nTo: <sip:busy@%s>\r\nCall-ID: bad%d\r\nContent-Length: 0\r\n\r\n",
					e.udp, from, i, from.Addr(), i, e.udp, i)
			}
		})
	})
	st := e.srv.Stats()
	sent, answers := f.sent.Load(), f.statuses()
	if other := int(f.got.Load()) - answers[400]; other != 0 {
		t.Errorf("answers other than 400 to the garbage: %v", answers)
	}
	// Every unframed datagram is counted, but for those the kernel dropped for a full receive
	// buffer (a loaded machine; counted there); a framed one never is.
	dropped := uint64(udpSocketDrops(e.udp.Port()) - sockBefore)
	if st.Malformed > uint64(unframed.Load()) || st.Malformed+dropped < uint64(unframed.Load()) {
		t.Errorf("Malformed %d (%d dropped by the kernel), want the %d unframed datagrams sent", st.Malformed, dropped,
			unframed.Load())
	}
	if t.Failed() {
		return
	}
	reliability.Log(t, reliability.Row{
		Test: "sipsvc TestFloodGarbage",
		Thrown: fmt.Sprintf("garbage datagrams from 4 sockets of 127.0.0.1 (trusted), %d/s for %d s (%d sent: random bytes, "+
			"INVITEs cut short, 60 KB datagrams, framed INVITEs without CSeq), while SIPp placed %d calls (20/s)",
			floodRate, floodSecs, sent, floodCalls),
		Did: fmt.Sprintf("discarded %d unframed datagrams at the socket, counted (Stats.Malformed, of %d sent; %d datagrams "+
			"dropped by the kernel for a full receive buffer), before any "+
			"parse; answered %d of the %d framed INVITEs without CSeq 400 (sipgo, stateless); answered every call (486); 0 panics; %s",
			st.Malformed, unframed.Load(), dropped, answers[400], framed.Load(), o.footprintText()),
		Lost: "nothing",
	})
}

// An INVITE flood from an untrusted loopback address (127.0.0.2, [sip] trusted 127.0.0.1/32,
// untrusted = drop): every datagram discarded in the socket filter before sipgo parses it,
// counted, never answered; the trusted calls unaffected.
func TestFloodUntrusted(t *testing.T) {
	sippBinary(t)
	e := floodEnv(t, func(c *config.Config) {
		trustLoopbackOnly(c)
		c.SIP.Untrusted = "drop"
	}, nil)
	f := newFlooder(t, "127.0.0.2", 4)
	callsBefore := e.srv.Stats().CallsTotal
	sockBefore := udpSocketDrops(e.udp.Port())
	o := underFlood(t, e, func(ctx context.Context) {
		f.run(ctx, e.udp, floodRate, floodSecs, func(i int, from netip.AddrPort) []byte {
			return fmt.Appendf(nil, "INVITE sip:busy@%s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bK-u%d;rport\r\n"+
				"From: <sip:u@%s>;tag=u%d\r\nTo: <sip:busy@%s>\r\nCall-ID: u%d\r\nCSeq: 1 INVITE\r\n"+
				"Contact: <sip:u@%s>\r\nX-Caller-Template: sub\r\nContent-Type: application/sdp\r\n"+
				"Content-Length: %d\r\n\r\n%s", e.udp, from, i, from.Addr(), i, e.udp, i, from, len(offerSDP), offerSDP)
		})
	})
	st := e.srv.Stats()
	sent := f.sent.Load()
	if f.got.Load() != 0 {
		t.Errorf("the untrusted flooder got %d answers: %v", f.got.Load(), f.statuses())
	}
	dropped := uint64(udpSocketDrops(e.udp.Port()) - sockBefore)
	if st.Untrusted > uint64(sent) || st.Untrusted+dropped < uint64(sent) {
		t.Errorf("Untrusted %d (%d dropped by the kernel), want the %d INVITEs sent", st.Untrusted, dropped, sent)
	}
	if calls := st.CallsTotal - callsBefore; calls != floodCalls {
		t.Errorf("%d calls reached the INVITE handler, want only the %d trusted ones", calls, floodCalls)
	}
	if t.Failed() {
		return
	}
	reliability.Log(t, reliability.Row{
		Test: "sipsvc TestFloodUntrusted",
		Thrown: fmt.Sprintf("INVITE flood from 4 sockets of 127.0.0.2 (untrusted; [sip] trusted 127.0.0.1/32, untrusted = drop), "+
			"%d/s for %d s (%d sent), while SIPp placed %d calls from 127.0.0.1 (20/s)", floodRate, floodSecs, sent, floodCalls),
		Did: fmt.Sprintf("discarded %d in the socket filter before any parse, counted (Stats.Untrusted; %d dropped by the "+
			"kernel for a full receive buffer), none answered, none reached a handler; answered every trusted call (486); %s",
			st.Untrusted, dropped, o.footprintText()),
		Lost: "nothing",
	})
}

// RTP at an active echo call's port from another address and port (127.0.0.2; the call's
// SDP says 127.0.0.1), floodRate packets/s for floodSecs: half random bytes, half valid-looking
// RTP of the call's payload type with another SSRC and consecutive sequence numbers (a run
// that would latch a source that is not yet latched). The call keeps echoing its own stream
// (20 ms packets) with loss under 0.1%; nothing of the flood is echoed, to its sender or to
// the caller, and the flood never latches. On a loaded machine the kernel drops datagrams at
// the call's socket when its reader is starved of CPU: the test counts them (Linux), and
// requires the session to echo the caller packets it read and drop the flood it read.
func TestFloodRTPAtCall(t *testing.T) {
	engine, err := rtp.NewEngine(rtp.Config{
		PortMin: 33000, PortMax: 33998, Address: netip.MustParseAddr("127.0.0.1"),
		Bind: netip.MustParseAddr("127.0.0.1"), Symmetric: true, Timeout: 30 * time.Second,
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer engine.Close()
	e := floodEnv(t, nil, func(o *sipsvc.Options) { o.Media = engine })

	media, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer media.Close()
	media.SetReadBuffer(1 << 20)
	offer := fmt.Sprintf("v=0\r\no=alice 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"+
		"m=audio %d RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n", media.LocalAddr().(*net.UDPAddr).Port)
	u := newRawUAC(t, "127.0.0.1", e.udp)
	inv := msg{method: "INVITE", ruri: "sip:echo@" + e.udp.String(), toUser: "echo", body: offer,
		headers: []string{"X-Caller-Template: sub"}}
	u.send(u.text(&inv))
	ok := u.final(3 * time.Second)
	if ok.StatusCode != 200 {
		t.Fatalf("echo call: got %d, want 200", ok.StatusCode)
	}
	u.send(u.ackFor(inv, ok))
	m := mediaRE.FindSubmatch(ok.Body())
	if m == nil {
		t.Fatalf("200 OK without an audio m= line:\n%s", ok.Body())
	}
	rport, _ := strconv.Atoi(string(m[1]))
	dst := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(rport))

	// The caller's stream: packet i carries "CALR" and i in its payload.
	var echoed sync.Map
	var strays atomic.Int64 // flood packets echoed to the caller
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		buf := make([]byte, 2048)
		for {
			n, err := media.Read(buf)
			if err != nil {
				return
			}
			var p pionrtp.Packet
			if p.Unmarshal(buf[:n]) != nil || len(p.Payload) < 8 {
				continue
			}
			switch string(p.Payload[:4]) {
			case "CALR":
				echoed.Store(binary.BigEndian.Uint32(p.Payload[4:8]), true)
			case "FLOD":
				strays.Add(1)
			}
		}
	}()
	before := footprint()
	totalsBefore := engine.Totals()
	droppedBefore := totalsBefore.Dropped
	f := newFlooder(t, "127.0.0.2", 2)
	rng := rand.New(rand.NewPCG(3, 4))
	var rngMu sync.Mutex
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	floodDone := make(chan struct{})
	go func() {
		defer close(floodDone)
		f.run(ctx, dst, floodRate, floodSecs, func(i int, _ netip.AddrPort) []byte {
			rngMu.Lock()
			defer rngMu.Unlock()
			payload := make([]byte, 160)
			for k := range payload {
				payload[k] = byte(rng.Uint32())
			}
			if i%2 == 0 {
				return payload // random bytes
			}
			copy(payload, "FLOD")
			pkt := pionrtp.Packet{Header: pionrtp.Header{Version: 2, PayloadType: 0, SequenceNumber: uint16(i / 2),
				Timestamp: uint32(160 * i / 2), SSRC: 0xf100d}, Payload: payload}
			b, _ := pkt.Marshal()
			return b
		})
	}()
	const packets = floodSecs * 50
	tick := time.NewTicker(20 * time.Millisecond)
	start := time.Now()
	for i := range packets {
		payload := make([]byte, 160)
		copy(payload, "CALR")
		binary.BigEndian.PutUint32(payload[4:], uint32(i))
		pkt := pionrtp.Packet{Header: pionrtp.Header{Version: 2, PayloadType: 0, SequenceNumber: uint16(1000 + i),
			Timestamp: uint32(160 * i), SSRC: 0xca11e4, Marker: i == 0}, Payload: payload}
		b, _ := pkt.Marshal()
		if _, err := media.WriteToUDPAddrPort(b, dst); err != nil {
			t.Fatal(err)
		}
		<-tick.C
	}
	tick.Stop()
	<-floodDone
	elapsed := time.Since(start)
	waitFor(t, 2*time.Second, "the echo of the last packet", func() bool {
		_, ok := echoed.Load(uint32(packets - 1))
		return ok
	})
	// Every datagram sent to the call's port was read by the session (the caller's, received;
	// the flood, dropped) or dropped by the kernel for a full receive buffer: a reader starved
	// of CPU on a loaded machine, which the session never saw (0 on a quiet machine; Linux
	// counts it per socket). Wait until the session read what is left in its buffer.
	var kernel, received, dropped int
	waitFor(t, 5*time.Second, "every datagram at the call's port read or dropped by the kernel", func() bool {
		st := engine.Totals()
		kernel = udpSocketDrops(uint16(rport))
		received, dropped = int(st.PacketsReceived-totalsBefore.PacketsReceived), int(st.Dropped-droppedBefore)
		return int64(received+dropped+kernel) >= f.sent.Load()+packets
	})
	// The echo of everything the session received (the wait above saw it read them).
	waitFor(t, 2*time.Second, "the echo of every packet the session received", func() bool {
		n := 0
		echoed.Range(func(any, any) bool { n++; return true })
		return n*1000 >= received*1000-packets
	})
	got := 0
	echoed.Range(func(any, any) bool { got++; return true })
	lost := packets - got
	// The caller's packets the session never read can only be the kernel's drops; of those
	// it read, it echoes all but 0.1%.
	if unread := packets - received; unread > kernel || (lost-unread)*1000 > packets {
		t.Errorf("echo lost %d of %d packets during the flood (%d never read by the session, the kernel dropped %d "+
			"datagrams at its socket), want under 0.1%% of those it read", lost, packets, unread, kernel)
	}
	if strays.Load() != 0 {
		t.Errorf("%d flood packets echoed to the caller", strays.Load())
	}
	if f.got.Load() != 0 {
		t.Errorf("the flooder got %d datagrams back (echoed or latched)", f.got.Load())
	}
	if sent := f.sent.Load(); int64(dropped) < (sent-int64(kernel))*95/100 {
		t.Errorf("the session dropped %d datagrams of the %d flooded (the kernel %d at its socket), want at least 95%% of those it read",
			dropped, sent, kernel)
	}

	bye := inv
	bye.method, bye.body, bye.branch, bye.cseq, bye.toTag = "BYE", "", "", 2, tagOf(ok)
	u.send(u.text(&bye))
	if res := u.final(2 * time.Second); res.StatusCode != 200 {
		t.Fatalf("BYE: got %d", res.StatusCode)
	}
	waitFor(t, 3*time.Second, "media session released", func() bool { return engine.Active() == 0 })
	media.Close()
	<-readDone
	waitFor(t, 10*time.Second, "goroutines back near their baseline", func() bool {
		return runtime.NumGoroutine() <= before.goroutines+5
	})
	after := footprint()
	if t.Failed() {
		return
	}
	reliability.Log(t, reliability.Row{
		Test: "sipsvc TestFloodRTPAtCall",
		Thrown: fmt.Sprintf("RTP flood at an echo call's RTP port from 2 sockets of 127.0.0.2 (the caller's SDP: 127.0.0.1), "+
			"%d packets/s for %d s (%d sent: half random bytes, half RTP of the call's payload type with another SSRC, in sequence), "+
			"while the caller sent its own stream (%d packets of 20 ms, real rtp engine, symmetric latching)",
			floodRate, floodSecs, f.sent.Load(), packets),
		Did: fmt.Sprintf("echoed %d of the caller's %d packets over %.1f s; dropped %d datagrams from the other source "+
			"(rtp Stats.Dropped); echoed none of the flood, to anyone; never latched it; goroutines %d -> %d, heap in use "+
			"%.1f -> %.1f MiB", got, packets, elapsed.Seconds(), dropped, before.goroutines, after.goroutines,
			float64(before.heapKiB)/1024, float64(after.heapKiB)/1024),
		Lost: fmt.Sprintf("%d of the caller's packets (%.2f%%; the kernel dropped %d datagrams at the call's socket)",
			lost, 100*float64(lost)/packets, kernel),
	})
}

// floodEnv is startEnvOpts with the service logging at info level into a buffer shown when
// the test fails (the debug log of a flood would hold the heap the test measures).
func floodEnv(t *testing.T, mutate func(*config.Config), opt func(*sipsvc.Options)) *env {
	t.Helper()
	buf := &sipsvctest.Log{}
	e := startEnvOpts(t, mutate, func(o *sipsvc.Options) {
		o.Log = slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
		if opt != nil {
			opt(o)
		}
	})
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("service log (info):\n%s", tail([]byte(buf.String()), 20000))
		}
	})
	return e
}
