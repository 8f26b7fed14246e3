package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// BenchmarkEchoCall measures one answered echo call through the whole serve wiring (shipped
// templates and dialplan, header identification, the real RTP engine) over real UDP sockets
// on loopback, one call at a time: INVITE *43 -> 100, 200 (SDP, an RTP session opened),
// ACK, BYE -> 200, as bench/cps.sh's sidecar-echo target without the hold. allocs/op and
// B/op count every goroutine of the process (the server's included); retained-B/op is the
// live heap (HeapAlloc) left per call after GCs once the calls are over (the goal: <= 1 KB).
// PUBLISHes the shipped subscriber template sends to the caller are not answered, as SIPp
// does not answer them.
func BenchmarkEchoCall(b *testing.B) {
	dir := b.TempDir()
	sipPort := freeUDPPort(b)
	ini := filepath.Join(dir, "bench.ini")
	text := fmt.Sprintf("[general]\nlog-level = warn\n[sip]\nlisten = udp:127.0.0.1:%d\ntrusted = 127.0.0.0/8\n"+
		"identify = header\nmax-calls = 100000\nack-timeout = 5s\ndrain-grace = 1s\n"+
		"[rtp]\nports = 12000-15999\naddress = 127.0.0.1\nbind = 127.0.0.1\n"+
		"[voicemail]\ndir = %s\n", sipPort, filepath.Join(dir, "vm"))
	if err := os.WriteFile(ini, []byte(text), 0o644); err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, ini, "", io.Discard) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			b.Error(err)
		}
	}()
	conn, err := net.DialUDP("udp", nil, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: sipPort})
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	ec := &echoCaller{conn: conn, local: conn.LocalAddr().String(), server: fmt.Sprintf("127.0.0.1:%d", sipPort), buf: make([]byte, 4096)}
	// Wait for the listener: the first calls retry until answered.
	deadline := time.Now().Add(20 * time.Second)
	for i := 0; ; i++ {
		if err := ec.call(-1-i, 300*time.Millisecond); err == nil {
			break
		} else if time.Now().After(deadline) {
			b.Fatalf("sidecar not answering: %v", err)
		}
	}
	for i := range 200 { // warm up
		if err := ec.call(-1000-i, 2*time.Second); err != nil {
			b.Fatal(err)
		}
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&before)
	cpu0 := processCPU(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := ec.call(i, 2*time.Second); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64((processCPU(b)-cpu0).Microseconds())/float64(b.N), "cpu-us/op")
	// Let what a finished call leaves for under a second end (its last SIP and RTP timers),
	// so retained-B/op is what stays: the BLF queue (PUBLISHes to the silent caller) and
	// sipgo's 32 s transaction timers are what it still shows.
	time.Sleep(time.Second)
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/float64(b.N), "retained-B/op")
}

// processCPU is the CPU time (user and system) the process has used: the server's and the
// caller's together, the caller's share being the same for every server build.
func processCPU(t testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// freeUDPPort is a UDP port free on 127.0.0.1 a moment ago.
func freeUDPPort(t testing.TB) int {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// echoCaller places echo calls one at a time from one UDP socket.
type echoCaller struct {
	conn          *net.UDPConn
	local, server string
	buf           []byte
}

// call places call n: INVITE, 200, ACK, BYE, 200; other messages (100, PUBLISH) are skipped.
func (e *echoCaller) call(n int, wait time.Duration) error {
	callID := fmt.Sprintf("bench-%d@127.0.0.1", n)
	sdp := "v=0\r\no=alice 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" +
		"m=audio 6000 RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\n"
	from := fmt.Sprintf("From: <sip:alice@127.0.0.1>;tag=f%d\r\n", n)
	invite := fmt.Sprintf("INVITE sip:*43@%s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bKi%d\r\n%sTo: <sip:*43@127.0.0.1>\r\n"+
		"Call-ID: %s\r\nCSeq: 1 INVITE\r\nContact: <sip:alice@%s>\r\nX-Caller-Template: subscriber;user=alice\r\n"+
		"Max-Forwards: 70\r\nContent-Type: application/sdp\r\nContent-Length: %d\r\n\r\n%s",
		e.server, e.local, n, from, callID, e.local, len(sdp), sdp)
	resp, err := e.roundTrip(invite, callID, "1 INVITE", wait)
	if err != nil {
		return fmt.Errorf("INVITE: %w", err)
	}
	to := headerLine(resp, "To:")
	contact := headerLine(resp, "Contact:")
	target := "sip:*43@" + e.server
	if i, j := strings.Index(contact, "<"), strings.Index(contact, ">"); i >= 0 && j > i {
		target = contact[i+1 : j]
	}
	ack := fmt.Sprintf("ACK %s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bKa%d\r\n%s%s\r\nCall-ID: %s\r\nCSeq: 1 ACK\r\n"+
		"Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n", target, e.local, n, from, to, callID)
	if _, err := e.conn.Write([]byte(ack)); err != nil {
		return err
	}
	bye := fmt.Sprintf("BYE %s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bKb%d\r\n%s%s\r\nCall-ID: %s\r\nCSeq: 2 BYE\r\n"+
		"Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n", target, e.local, n, from, to, callID)
	if _, err := e.roundTrip(bye, callID, "2 BYE", wait); err != nil {
		return fmt.Errorf("BYE: %w", err)
	}
	return nil
}

// roundTrip sends msg and waits for the 200 to it (Call-ID and CSeq matched).
func (e *echoCaller) roundTrip(msg, callID, cseq string, wait time.Duration) (string, error) {
	if _, err := e.conn.Write([]byte(msg)); err != nil {
		return "", err
	}
	e.conn.SetReadDeadline(time.Now().Add(wait))
	for {
		n, err := e.conn.Read(e.buf)
		if err != nil {
			return "", err
		}
		resp := string(e.buf[:n])
		if !strings.HasPrefix(resp, "SIP/2.0 ") || !strings.Contains(resp, callID) || !strings.Contains(resp, "CSeq: "+cseq) {
			continue
		}
		if strings.HasPrefix(resp, "SIP/2.0 1") {
			continue
		}
		if !strings.HasPrefix(resp, "SIP/2.0 200") {
			return "", fmt.Errorf("answered %q", firstLine(resp))
		}
		return resp, nil
	}
}

// headerLine is the first line of msg starting with name, without its CRLF.
func headerLine(msg, name string) string {
	for _, l := range strings.Split(msg, "\r\n") {
		if strings.HasPrefix(l, name) {
			return l
		}
	}
	return ""
}
