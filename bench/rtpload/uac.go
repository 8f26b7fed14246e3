package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// uac is a minimal SIP user agent client over one UDP socket: just enough to set up and tear
// down echo calls on loopback (INVITE with an SDP offer, ACK, BYE, with retransmission).
type uac struct {
	conn   *net.UDPConn
	server *net.UDPAddr
	exten  string
	tag    string

	mu      sync.Mutex
	waiting map[string]chan string // "Call-ID CSeq-method" -> final response
	calls   []dialog               // established calls, by leg
}

// dialUAC opens the SIP socket towards addr and starts reading responses.
func dialUAC(addr, exten string) (*uac, error) {
	raddr, err := net.ResolveUDPAddr("udp4", addr)
	if err != nil {
		return nil, fmt.Errorf("resolve %s: %w", addr, err)
	}
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return nil, fmt.Errorf("listen sip: %w", err)
	}
	c.SetReadBuffer(4 << 20)
	u := &uac{conn: c, server: raddr, exten: exten, tag: strconv.Itoa(os.Getpid()),
		waiting: map[string]chan string{}}
	go u.read()
	return u, nil
}

func (u *uac) close() { u.conn.Close() }

var (
	reStatus = regexp.MustCompile(`^SIP/2\.0 (\d{3})`)
	reCallID = regexp.MustCompile(`(?mi)^(?:Call-ID|i):\s*(\S+)`)
	reCSeq   = regexp.MustCompile(`(?mi)^CSeq:\s*\d+\s+(\w+)`)
	reToTag  = regexp.MustCompile(`(?mi)^(?:To|t):.*;tag=([^;>\s]+)`)
	reMPort  = regexp.MustCompile(`(?m)^m=audio (\d+) `)
)

// read hands every final response to whoever waits for its transaction.
func (u *uac) read() {
	buf := make([]byte, 65535)
	for {
		n, err := u.conn.Read(buf)
		if err != nil {
			return
		}
		msg := string(buf[:n])
		st := reStatus.FindStringSubmatch(msg)
		id, cseq := reCallID.FindStringSubmatch(msg), reCSeq.FindStringSubmatch(msg)
		if st == nil || id == nil || cseq == nil || st[1] < "200" {
			continue
		}
		u.mu.Lock()
		ch := u.waiting[id[1]+" "+cseq[1]]
		u.mu.Unlock()
		if ch != nil {
			select {
			case ch <- msg:
			default: // a retransmitted response
			}
		}
	}
}

// transact sends msg every 500 ms until the final response for (callID, method) comes, for at
// most 8 tries, and returns that response.
func (u *uac) transact(callID, method, msg string) (string, error) {
	ch := make(chan string, 1)
	key := callID + " " + method
	u.mu.Lock()
	u.waiting[key] = ch
	u.mu.Unlock()
	defer func() { u.mu.Lock(); delete(u.waiting, key); u.mu.Unlock() }()
	t := time.NewTicker(500 * time.Millisecond)
	defer t.Stop()
	for range 8 {
		if _, err := u.conn.WriteToUDP([]byte(msg), u.server); err != nil {
			return "", fmt.Errorf("send %s: %w", method, err)
		}
		select {
		case resp := <-ch:
			return resp, nil
		case <-t.C:
		}
	}
	return "", fmt.Errorf("%s %s: no final response", method, callID)
}

// dialog is one established call, for its BYE.
type dialog struct{ callID, toTag string }

// setup places one echo call per leg, 50 at a time, and points each leg at the RTP port the
// server answered with.
func (u *uac) setup(legs []*leg) error {
	local := u.conn.LocalAddr().(*net.UDPAddr)
	u.calls = make([]dialog, len(legs))
	errs := make([]error, len(legs))
	sem := make(chan struct{}, 50)
	var wg sync.WaitGroup
	for i, l := range legs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			callID := fmt.Sprintf("rtpload-%s-%d@127.0.0.1", u.tag, i)
			rtpPort := l.conn.LocalAddr().(*net.UDPAddr).Port
			sdp := fmt.Sprintf("v=0\r\no=rtpload %d 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n"+
				"t=0 0\r\nm=audio %d RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n"+
				"a=rtpmap:101 telephone-event/8000\r\na=ptime:20\r\n", i, rtpPort)
			inv := fmt.Sprintf("INVITE sip:%s@%s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bK-rl%s-%d\r\n"+
				"Max-Forwards: 70\r\nFrom: <sip:alice@127.0.0.1>;tag=rl%s-%d\r\nTo: <sip:%s@127.0.0.1>\r\n"+
				"Call-ID: %s\r\nCSeq: 1 INVITE\r\nContact: <sip:alice@%s>\r\n"+
				"X-Caller-Template: subscriber;user=alice\r\nContent-Type: application/sdp\r\n"+
				"Content-Length: %d\r\n\r\n%s",
				u.exten, u.server, local, u.tag, i, u.tag, i, u.exten, callID, local, len(sdp), sdp)
			resp, err := u.transact(callID, "INVITE", inv)
			if err != nil {
				errs[i] = err
				return
			}
			st, tag, port := reStatus.FindStringSubmatch(resp), reToTag.FindStringSubmatch(resp), reMPort.FindStringSubmatch(resp)
			if st[1] != "200" || tag == nil || port == nil {
				errs[i] = fmt.Errorf("call %d: answered %s (want 200 with a To tag and SDP)", i, st[1])
				return
			}
			p, _ := strconv.Atoi(port[1])
			l.remote = &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: p}
			u.calls[i] = dialog{callID, tag[1]}
			ack := fmt.Sprintf("ACK sip:%s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bK-rla%s-%d\r\n"+
				"Max-Forwards: 70\r\nFrom: <sip:alice@127.0.0.1>;tag=rl%s-%d\r\n"+
				"To: <sip:%s@127.0.0.1>;tag=%s\r\nCall-ID: %s\r\nCSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n",
				u.server, local, u.tag, i, u.tag, i, u.exten, tag[1], callID)
			if _, err := u.conn.WriteToUDP([]byte(ack), u.server); err != nil {
				errs[i] = fmt.Errorf("send ACK: %w", err)
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// teardown ends every established call with BYE, 50 at a time.
func (u *uac) teardown() error {
	local := u.conn.LocalAddr().(*net.UDPAddr)
	errs := make([]error, len(u.calls))
	sem := make(chan struct{}, 50)
	var wg sync.WaitGroup
	for i, d := range u.calls {
		if d.callID == "" {
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			bye := fmt.Sprintf("BYE sip:%s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bK-rlb%s-%d\r\n"+
				"Max-Forwards: 70\r\nFrom: <sip:alice@127.0.0.1>;tag=rl%s-%d\r\n"+
				"To: <sip:%s@127.0.0.1>;tag=%s\r\nCall-ID: %s\r\nCSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n",
				u.server, local, u.tag, i, u.tag, i, u.exten, d.toTag, d.callID)
			resp, err := u.transact(d.callID, "BYE", bye)
			if err == nil && !strings.HasPrefix(resp, "SIP/2.0 200") {
				err = fmt.Errorf("BYE %d: %s", i, strings.SplitN(resp, "\r\n", 2)[0])
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}
