package main

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sidecar-voip/sidecar/internal/reliability"
)

var tcpListenRE = regexp.MustCompile(`tcp:(127\.0\.0\.1:\d+)`)

// "sidecar serve" with 64 file descriptors, and more TCP connections opened to it than it
// can hold: it keeps answering OPTIONS over UDP while out of descriptors, and over TCP once
// the connections are gone.
// sipgo's TCP Serve returns on the first Accept error: the trust listener
// (sipsvc/filter.go) retries EMFILE and the like with a backoff instead of passing them up.
func TestServeFDExhaustion(t *testing.T) {
	bin := sidecarBinary(t)
	dir := t.TempDir()
	ini := filepath.Join(dir, "sidecar.ini")
	os.WriteFile(ini, []byte("[sip]\nlisten = udp:127.0.0.1:0, tcp:127.0.0.1:0\ndrain-grace = 1s\n"), 0o644)
	const limit, flood = 64, 200
	// ulimit -n sets the hard limit too: Go raises the soft one to the hard one at start.
	isolateVoicemail(t, ini)
	sc := startServeCmd(t, dir, exec.Command("sh", "-c", fmt.Sprintf(`ulimit -n %d && exec "$0" serve -config "$1"`, limit), bin, ini))
	udpAddr := sc.waitLog(t, listenRE, "sip service listening")
	tcpAddr := sc.waitLog(t, tcpListenRE, "sip service listening")

	udp, err := net.Dial("udp", udpAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer udp.Close()
	options := func(conn net.Conn, n int) string {
		return fmt.Sprintf("OPTIONS sip:%s SIP/2.0\r\nVia: SIP/2.0/%s %s;branch=z9hG4bKfd%d;rport\r\n"+
			"Max-Forwards: 70\r\nFrom: <sip:probe@127.0.0.1>;tag=1\r\nTo: <sip:%s>\r\nCall-ID: fd-%d\r\n"+
			"CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n", udpAddr, strings.ToUpper(conn.LocalAddr().Network()),
			conn.LocalAddr(), n, udpAddr, n)
	}
	if got := roundTrip(t, udp, options(udp, 0)); !strings.HasPrefix(got, "SIP/2.0 200") {
		t.Fatalf("OPTIONS before: %q", firstLine(got))
	}

	var conns []net.Conn
	for range flood {
		c, err := net.DialTimeout("tcp", tcpAddr, 2*time.Second)
		if err != nil {
			break // the backlog is full: the sidecar accepts no more
		}
		conns = append(conns, c)
	}
	// Out of descriptors: UDP still answers.
	if got := roundTrip(t, udp, options(udp, 1)); !strings.HasPrefix(got, "SIP/2.0 200") {
		t.Fatalf("OPTIONS over UDP with %d TCP connections open: %q", len(conns), firstLine(got))
	}
	for _, c := range conns {
		c.Close()
	}
	// Recovered: TCP answers again once the connections are gone.
	deadline := time.Now().Add(10 * time.Second)
	var last string
	for n := 2; ; n++ {
		last = tcpOptions(tcpAddr, options, n)
		if strings.HasPrefix(last, "SIP/2.0 200") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("TCP OPTIONS after the flood: %q\n%s", last, sc.log.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if got := roundTrip(t, udp, options(udp, 99)); !strings.HasPrefix(got, "SIP/2.0 200") {
		t.Fatalf("OPTIONS over UDP after: %q", firstLine(got))
	}
	if err := sc.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	sc.waitExit(t)
	reliability.Log(t, reliability.Row{
		Test:   "cmd/sidecar TestServeFDExhaustion",
		Thrown: fmt.Sprintf("sidecar serve with RLIMIT_NOFILE %d; %d TCP connections opened to it (%d connected), then closed", limit, flood, len(conns)),
		Did:    "answered OPTIONS over UDP while out of descriptors; TCP answered again once they were closed; clean exit on SIGINT",
		Lost:   "nothing",
	})
}

// tcpOptions sends OPTIONS over a new TCP connection and returns the first line answered ("" on
// any failure).
func tcpOptions(addr string, options func(net.Conn, int) string, n int) string {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return "dial: " + err.Error()
	}
	defer c.Close()
	if _, err := c.Write([]byte(options(c, n))); err != nil {
		return "write: " + err.Error()
	}
	c.SetReadDeadline(time.Now().Add(time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return "read: " + err.Error()
	}
	return strings.TrimSpace(line)
}
