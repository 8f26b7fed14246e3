package e2e

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	pionrtp "github.com/pion/rtp"
)

// sdpMedia returns the audio address ("ip:port") of an SDP body inside a SIP message.
func sdpMedia(msg string) (string, error) {
	var ip, port string
	for _, line := range strings.Split(msg, "\n") {
		line = strings.TrimSpace(line)
		if v, ok := strings.CutPrefix(line, "c=IN IP4 "); ok {
			ip = v
		}
		if v, ok := strings.CutPrefix(line, "m=audio "); ok {
			port, _, _ = strings.Cut(v, " ")
		}
	}
	if ip == "" || port == "" {
		return "", fmt.Errorf("no audio address in:\n%s", msg)
	}
	if _, err := strconv.Atoi(port); err != nil {
		return "", fmt.Errorf("bad audio port %q", port)
	}
	return net.JoinHostPort(ip, port), nil
}

// echoResult counts what came back from an echo test.
type echoResult struct {
	sent, echoed int // packets sent; sent payloads that came back unchanged
}

// checkEcho sends n PCMU packets of random payload every 20 ms from conn to remote and counts
// the payloads that come back unchanged within a second after the last one was sent.
func checkEcho(conn *net.UDPConn, remote string, n int) (echoResult, error) {
	raddr, err := net.ResolveUDPAddr("udp", remote)
	if err != nil {
		return echoResult{}, err
	}
	payloads := make([][]byte, n)
	for i := range payloads {
		payloads[i] = make([]byte, 160)
		rand.Read(payloads[i])
	}
	got := make(chan []byte, n*2)
	stop := make(chan struct{})
	go func() {
		buf := make([]byte, 1500)
		for {
			conn.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
			k, _, err := conn.ReadFromUDP(buf)
			select {
			case <-stop:
				return
			default:
			}
			if err != nil {
				continue
			}
			var p pionrtp.Packet
			if p.Unmarshal(buf[:k]) == nil {
				got <- append([]byte(nil), p.Payload...)
			}
		}
	}()
	defer close(stop)

	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	ssrc := uint32(0x5ca1ab1e)
	for i, pl := range payloads {
		<-tick.C
		pkt := pionrtp.Packet{Header: pionrtp.Header{Version: 2, PayloadType: 0,
			SequenceNumber: uint16(1000 + i), Timestamp: uint32(160 * i), SSRC: ssrc}, Payload: pl}
		b, err := pkt.Marshal()
		if err != nil {
			return echoResult{}, err
		}
		if _, err := conn.WriteToUDP(b, raddr); err != nil {
			return echoResult{}, fmt.Errorf("send RTP: %w", err)
		}
	}
	res := echoResult{sent: n}
	seen := make([]bool, n)
	deadline := time.After(time.Second)
	for {
		select {
		case pl := <-got:
			for i, want := range payloads {
				if !seen[i] && bytes.Equal(pl, want) {
					seen[i] = true
					res.echoed++
					break
				}
			}
			if res.echoed == n {
				return res, nil
			}
		case <-deadline:
			return res, nil
		}
	}
}

// echoCall calls callee as user from a SIPp phone whose SDP offers a socket the test owns,
// waits for the answer, sends RTP to the answering side's SDP address and checks that it
// comes back. It returns an error unless the call succeeded and most payloads were echoed.
func echoCall(t *testing.T, dir string, k *kamailio, name, user, password, callee string) error {
	t.Helper()
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(kamIP), Port: freePortPair(t, kamIP)})
	if err != nil {
		return fmt.Errorf("open the phone's RTP socket: %w", err)
	}
	defer conn.Close()
	port := conn.LocalAddr().(*net.UDPAddr).Port
	c := &sipp{name: name, scenario: "call.xml", ip: kamIP, calls: 1, holdMs: 3000,
		user: user, password: password,
		keys: map[string]string{"user": user, "domain": domain, "callee": callee,
			"rtp_ip": kamIP, "rtp_port": strconv.Itoa(port), "extra_header": "X-Test: plain"}}
	c.background(t, dir, k.target())

	var remote string
	err = eventually(10*time.Second, func() error {
		if !c.proc.running() {
			return fmt.Errorf("the call ended before it was answered: %v", c.proc.err)
		}
		for _, m := range received(dir, c.name, "SIP/2.0 200") {
			if strings.Contains(m, "m=audio ") {
				remote, err = sdpMedia(m)
				return err
			}
		}
		return fmt.Errorf("no 200 with SDP yet")
	})
	if err != nil {
		return err
	}
	res, err := checkEcho(conn, remote, 50)
	if err != nil {
		return err
	}
	t.Logf("echo test via %s: %d of %d RTP payloads came back from %s", callee, res.echoed, res.sent, remote)
	if res.echoed < res.sent*8/10 {
		return fmt.Errorf("only %d of %d RTP payloads came back from %s", res.echoed, res.sent, remote)
	}
	if ok, err := c.proc.wait(30 * time.Second); !ok || err != nil {
		return fmt.Errorf("the call did not end cleanly: exited=%v err=%v", ok, err)
	}
	return nil
}
