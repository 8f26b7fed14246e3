package e2e

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sidecar-voip/sidecar/internal/reliability"
)

// A Kamailio that vanishes mid-call (kill -9, and the phone with it): the sidecar ends the call
// when its RTP stops ([rtp] timeout) and frees its slot. With max-calls = 1 the slot is
// visible from outside: OPTIONS gets 503 while the call holds it, 200 once it is freed.
func TestKamailioVanishesMidCall(t *testing.T) {
	requireE2E(t)
	dir := newRunDir(t)
	const rtpTimeout = 3 * time.Second
	sc := startSidecarINI(t, dir, "sidecar1", sidecar1, echoTemplates(t, dir),
		fmt.Sprintf("\n[sip]\nmax-calls = 1\n\n[rtp]\ntimeout = %s\n", rtpTimeout))
	k := startKamailio(t, dir, []string{sc.addr()})
	k.waitPool(t, map[string]string{sc.addr(): "AP"}, 15*time.Second)

	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(kamIP), Port: freePortPair(t, kamIP)})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	c := &sipp{name: "alice-vanishes", scenario: "call.xml", ip: kamIP, calls: 1, holdMs: 120000,
		user: "alice", password: "alice-secret",
		keys: map[string]string{"user": "alice", "domain": domain, "callee": "*43",
			"rtp_ip": kamIP, "rtp_port": strconv.Itoa(conn.LocalAddr().(*net.UDPAddr).Port), "extra_header": "X-Test: plain"}}
	c.background(t, dir, k.target())
	var remote string
	if err := eventually(10*time.Second, func() error {
		for _, m := range received(dir, c.name, "SIP/2.0 200") {
			if strings.Contains(m, "m=audio ") {
				remote, err = sdpMedia(m)
				return err
			}
		}
		return fmt.Errorf("no 200 with SDP yet")
	}); err != nil {
		t.Fatalf("the call was not answered: %v", err)
	}
	res, err := checkEcho(conn, remote, 25)
	if err != nil || res.echoed == 0 {
		t.Fatalf("no media on the call before the kill: %+v, %v", res, err)
	}
	if got := sidecarOptions(t, sc); got != 503 {
		t.Fatalf("OPTIONS with the one call slot taken: %d, want 503", got)
	}

	killed := time.Now()
	if err := k.signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if err := c.proc.signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	// The call ends on RTP inactivity; its BYE goes to a Kamailio that is gone, so the slot is
	// freed after the BYE's own timeout at the latest.
	if err := eventually(60*time.Second, func() error {
		if got := sidecarOptions(t, sc); got != 200 {
			return fmt.Errorf("OPTIONS: %d", got)
		}
		return nil
	}); err != nil {
		t.Fatalf("the call slot was not freed after Kamailio vanished: %v\n%s", err, tail(sc.log, 30))
	}
	freed := time.Since(killed)
	if log := tail(sc.log, 400); !strings.Contains(log, "media session ended: hanging up") {
		t.Errorf("the call did not end on media inactivity:\n%s", tail(sc.log, 30))
	}
	if !sc.running() {
		t.Fatal("the sidecar exited")
	}
	reliability.Log(t, reliability.Row{
		Test:   "e2e TestKamailioVanishesMidCall",
		Thrown: fmt.Sprintf("kill -9 of Kamailio and the phone during an echo call ([rtp] timeout %s, max-calls 1)", rtpTimeout),
		Did:    fmt.Sprintf("ended the call on RTP inactivity, sent its BYE to nobody, and freed the call slot %.1f s after the kill (OPTIONS 503 -> 200)", freed.Seconds()),
		Lost:   "only the call whose proxy vanished",
	})
}

// sidecarOptions sends one OPTIONS to sc from Kamailio's (trusted) address and returns the
// status, 0 on no answer.
func sidecarOptions(t *testing.T, sc *sidecar) int {
	t.Helper()
	conn, err := net.DialUDP("udp", &net.UDPAddr{IP: net.ParseIP(kamIP)}, &net.UDPAddr{IP: net.ParseIP(sc.ip), Port: sc.port})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	local := conn.LocalAddr().String()
	fmt.Fprintf(conn, "OPTIONS sip:%s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bK%d;rport\r\nMax-Forwards: 70\r\n"+
		"From: <sip:probe@%s>;tag=1\r\nTo: <sip:%s>\r\nCall-ID: vanish-%d\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
		sc.addr(), local, time.Now().UnixNano(), kamIP, sc.addr(), time.Now().UnixNano())
	conn.SetReadDeadline(time.Now().Add(2 * time.Second))
	buf := make([]byte, 4096)
	n, err := conn.Read(buf)
	if err != nil {
		return 0
	}
	f := strings.Fields(string(buf[:n]))
	if len(f) < 2 {
		return 0
	}
	code, _ := strconv.Atoi(f[1])
	return code
}
