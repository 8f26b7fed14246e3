package sipsvc_test

import (
	"bufio"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/sidecar-voip/sidecar/internal/reliability"
)

// Oversize messages: sipgo reads at most 32 KB per datagram and parses at most 64 KB per
// message. Anything larger is dropped (UDP) or ends its connection (TCP) with no answer and
// nothing kept; a large message within the limits is answered; the service answers the next
// caller either way.
func TestOversize(t *testing.T) {
	e := startEnv(t, nil)
	tcp := tcpAddrOf(t, e)
	invite := func(p *peer, extra []string, body string) string {
		return p.text(&msg{method: "INVITE", ruri: "sip:busy@" + p.srv.String(), toUser: "busy", body: body,
			headers: append([]string{"X-Caller-Template: sub"}, extra...)})
	}
	pad := func(n int) []string { // n bytes of extra headers, 100 bytes each
		var hs []string
		for i := 0; i < n/100; i++ {
			hs = append(hs, fmt.Sprintf("X-Pad-%04d: %s", i, strings.Repeat("p", 100-15)))
		}
		return hs
	}
	var rows []string

	// UDP.
	for _, c := range []struct {
		name   string
		size   int
		answer bool
	}{
		{"udp 8 KB of headers", 8 << 10, true},
		{"udp 40 KB datagram (over sipgo's 32 KB read buffer)", 40 << 10, false},
		{"udp 63 KB datagram", 63 << 10, false},
	} {
		u := newRawUAC(t, "127.0.0.1", e.udp)
		text := invite(&u.peer, pad(c.size), "")
		u.send(text)
		what := "dropped, no answer"
		if c.answer {
			if res := u.final(5 * time.Second); res.StatusCode != 486 {
				t.Errorf("%s: %d, want 486", c.name, res.StatusCode)
			}
			what = "answered 486"
		} else {
			u.silent(tortureQuiet)
		}
		u.conn.Close()
		probe(t, "udp", e.udp)
		rows = append(rows, fmt.Sprintf("%s (%d bytes): %s", c.name, len(text), what))
	}

	// TCP.
	streamCase := func(name, text string, wantCode int) {
		t.Helper()
		conn, err := net.Dial("tcp", tcp.String())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		go conn.Write([]byte(text)) // the service may close before reading it all
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		r := bufio.NewReader(conn)
		res, err := readResponse(r)
		for err == nil && res.StatusCode < 200 {
			res, err = readResponse(r)
		}
		switch {
		case wantCode == 0 && err == nil:
			t.Errorf("%s: answered %d, want the connection closed", name, res.StatusCode)
		case wantCode == 0 && isTimeout(err):
			t.Errorf("%s: connection still open after 5 s, want it closed", name)
		case wantCode != 0 && err != nil:
			t.Errorf("%s: %v, want %d", name, err, wantCode)
		case wantCode != 0 && res.StatusCode != wantCode:
			t.Errorf("%s: %d, want %d", name, res.StatusCode, wantCode)
		}
		probe(t, "tcp", tcp)
		what := "connection closed, no answer"
		if wantCode != 0 {
			what = fmt.Sprintf("answered %d", wantCode)
		}
		rows = append(rows, fmt.Sprintf("%s (%d bytes): %s", name, len(text), what))
	}
	conn, _ := net.Dial("tcp", tcp.String())
	p := &newStreamUAC(t, conn, tcp, "TCP").peer
	streamCase("tcp 40 KB of headers", invite(p, pad(40<<10), ""), 486)
	streamCase("tcp 100 KB of headers", invite(p, pad(100<<10), ""), 0)
	streamCase("tcp one 70 KB header", invite(p, []string{"X-Big: " + strings.Repeat("b", 70<<10)}, ""), 0)
	huge := strings.Replace(invite(p, nil, offerSDP), fmt.Sprintf("Content-Length: %d", len(offerSDP)), "Content-Length: 1000000000", 1)
	streamCase("tcp Content-Length 1 GB", huge, 0)
	streamCase("tcp 60 KB body", invite(p, nil, offerSDP+strings.Repeat("a=x-pad:"+strings.Repeat("z", 90)+"\r\n", 600)), 486)

	reliability.Log(t, reliability.Row{
		Test:   "sipsvc TestOversize",
		Thrown: "large and oversize INVITEs, one of each, over UDP and TCP, from a trusted source",
		Did:    strings.Join(rows, "; "),
		Lost:   "nothing: OPTIONS answered after each",
	})
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}
