package sipsvc_test

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// rawUAC is a UDP SIP peer that writes SIP text itself, for precise control over what goes
// on the wire (no ACK, Record-Route, junk, a chosen source address).
type rawUAC struct {
	peer
	t    *testing.T
	conn *net.UDPConn
	msgs chan sip.Message
}

// peer renders requests from local to srv over transport ("UDP", "TCP", "TLS").
type peer struct {
	srv, local netip.AddrPort
	transport  string
}

// newRawUAC binds a UDP socket on bindIP (port 0) that talks to srv.
func newRawUAC(t *testing.T, bindIP string, srv netip.AddrPort) *rawUAC {
	t.Helper()
	conn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(netip.MustParseAddr(bindIP), 0)))
	if err != nil {
		t.Fatalf("bind %s: %v", bindIP, err)
	}
	u := &rawUAC{t: t, conn: conn, msgs: make(chan sip.Message, 64),
		peer: peer{srv: srv, local: conn.LocalAddr().(*net.UDPAddr).AddrPort(), transport: "UDP"}}
	t.Cleanup(func() { conn.Close() })
	go func() {
		p := sip.NewParser()
		buf := make([]byte, 65535)
		for {
			n, _, err := conn.ReadFromUDP(buf)
			if err != nil {
				close(u.msgs)
				return
			}
			m, err := p.ParseSIP(append([]byte(nil), buf[:n]...))
			if err != nil {
				continue
			}
			select {
			case u.msgs <- m:
			default:
			}
		}
	}()
	return u
}

// send writes raw text to the server.
func (u *rawUAC) send(text string) { u.sendTo(u.srv, text) }

func (u *rawUAC) sendTo(to netip.AddrPort, text string) {
	u.t.Helper()
	if _, err := u.conn.WriteToUDPAddrPort([]byte(text), to); err != nil {
		u.t.Fatalf("send: %v", err)
	}
}

// next returns the next message, nil after timeout.
func (u *rawUAC) next(timeout time.Duration) sip.Message {
	select {
	case m := <-u.msgs:
		return m
	case <-time.After(timeout):
		return nil
	}
}

// final returns the next response with a status >= 200 (skipping provisional ones and
// requests); the test fails after timeout.
func (u *rawUAC) final(timeout time.Duration) *sip.Response {
	u.t.Helper()
	// At least minWait: these are deadlines for an event that must come, so a longer one only
	// slows a failing test, while a short one failed on a loaded CI machine.
	timeout = max(timeout, minWait)
	deadline := time.Now().Add(timeout)
	for {
		m := u.next(time.Until(deadline))
		if m == nil {
			u.t.Fatalf("no final response within %v", timeout)
		}
		if r, ok := m.(*sip.Response); ok && r.StatusCode >= 200 {
			return r
		}
	}
}

// request returns the next request (skipping responses); the test fails after timeout.
func (u *rawUAC) request(timeout time.Duration) *sip.Request {
	u.t.Helper()
	// At least minWait: these are deadlines for an event that must come, so a longer one only
	// slows a failing test, while a short one failed on a loaded CI machine.
	timeout = max(timeout, minWait)
	deadline := time.Now().Add(timeout)
	for {
		m := u.next(time.Until(deadline))
		if m == nil {
			u.t.Fatalf("no request within %v", timeout)
		}
		if r, ok := m.(*sip.Request); ok {
			return r
		}
	}
}

// silent fails the test if any message arrives within d.
func (u *rawUAC) silent(d time.Duration) {
	u.t.Helper()
	if m := u.next(d); m != nil {
		u.t.Fatalf("want no message, got %s", m.String())
	}
}

// msg describes one request the raw UAC writes.
type msg struct {
	method, ruri    string
	callID, fromTag string
	toUser, toTag   string
	branch          string
	cseq            int
	headers         []string
	body            string
	contact         string // default: the UAC's own address
	fromUser        string // default: alice
	contentType     string // of a non-empty body; default: application/sdp
}

// text renders m; empty fields get fresh values.
func (u *peer) text(m *msg) string {
	if m.branch == "" {
		m.branch = "z9hG4bK" + token()
	}
	if m.cseq == 0 {
		m.cseq = 1
	}
	if m.fromTag == "" {
		m.fromTag = token()
	}
	if m.callID == "" {
		m.callID = token() + "@test"
	}
	if m.fromUser == "" {
		m.fromUser = "alice"
	}
	if m.contact == "" {
		m.contact = "sip:alice@" + u.local.String()
	}
	to := "<sip:" + m.toUser + "@" + u.srv.String() + ">"
	if m.toUser == "" {
		to = "<sip:" + u.srv.String() + ">"
	}
	if m.toTag != "" {
		to += ";tag=" + m.toTag
	}
	cseqMethod := m.method
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s SIP/2.0\r\n", m.method, m.ruri)
	fmt.Fprintf(&b, "Via: SIP/2.0/%s %s;branch=%s;rport\r\n", u.transport, u.local, m.branch)
	fmt.Fprintf(&b, "Max-Forwards: 70\r\n")
	fmt.Fprintf(&b, "From: <sip:%s@%s>;tag=%s\r\n", m.fromUser, hostOf(u.local.Addr()), m.fromTag)
	fmt.Fprintf(&b, "To: %s\r\n", to)
	fmt.Fprintf(&b, "Call-ID: %s\r\n", m.callID)
	fmt.Fprintf(&b, "CSeq: %d %s\r\n", m.cseq, cseqMethod)
	fmt.Fprintf(&b, "Contact: <%s>\r\n", m.contact)
	for _, h := range m.headers {
		b.WriteString(h + "\r\n")
	}
	if m.body != "" {
		ct := m.contentType
		if ct == "" {
			ct = "application/sdp"
		}
		b.WriteString("Content-Type: " + ct + "\r\n")
	}
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n%s", len(m.body), m.body)
	return b.String()
}

// ackFor renders the ACK of a 2xx answer to the INVITE described by inv.
func (u *peer) ackFor(inv msg, res *sip.Response) string {
	ack := inv
	ack.method, ack.branch, ack.body = "ACK", "", ""
	ack.toTag = tagOf(res)
	return u.text(&ack)
}

// ackNon2xx renders the ACK of an error answer: same branch as the INVITE.
func (u *peer) ackNon2xx(inv msg, res *sip.Response) string {
	ack := inv
	ack.method, ack.body = "ACK", ""
	ack.toTag = tagOf(res)
	return u.text(&ack)
}

// respond answers an in-dialog request from the server (a BYE) with code.
func (u *rawUAC) respond(req *sip.Request, code int, reason string) {
	u.t.Helper()
	res := sip.NewResponseFromRequest(req, code, reason, nil)
	u.sendTo(u.srv, res.String())
}

func tagOf(res *sip.Response) string {
	if to := res.To(); to != nil {
		t, _ := to.Params.Get("tag")
		return t
	}
	return ""
}

func token() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// offerSDP is the caller's SDP offer in tests.
const offerSDP = "v=0\r\no=alice 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" +
	"m=audio 30000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"

// hostOf formats ip as a URI host: IPv6 in brackets.
func hostOf(ip netip.Addr) string {
	if ip.Is6() {
		return "[" + ip.String() + "]"
	}
	return ip.String()
}
