package sipsvc_test

import (
	"bufio"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sidecar-voip/sidecar/internal/reliability"
)

// RFC 4475's dblreq over TCP, its Via hosts pointed at a listener of the test: the service
// answers on the request's connection or not at all, and never opens a connection to the
// Via host. sipgo closes the connection at the garbage after the INVITE while the INVITE's
// transaction is being set up; before the fix its answer then went to the Via host, in some
// runs only, so the message is sent many times.
func TestDblreqNoDialOut(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(tortureDir(t), "valid", "dblreq.dat"))
	if err != nil {
		t.Fatal(err)
	}
	trap, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer trap.Close()
	var dialled atomic.Int64
	go func() {
		for {
			c, err := trap.Accept()
			if err != nil {
				return
			}
			dialled.Add(1)
			c.Close()
		}
	}()
	via := trap.Addr().String()
	msg := strings.NewReplacer("192.0.2.125", via, "192.0.2.15;", via+";").Replace(string(data))
	if strings.Count(msg, via) != 2 {
		t.Fatalf("rewrite dblreq: the Via hosts moved:\n%s", msg)
	}
	e := startEnv(t, nil)
	addr := tcpAddrOf(t, e)
	const rounds = 100
	answered := 0
	for range rounds {
		conn, err := net.Dial("tcp", addr.String())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Write([]byte(msg)); err != nil {
			t.Fatal(err)
		}
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		r := bufio.NewReader(conn)
		for {
			res, err := readResponse(r)
			if err != nil {
				break
			}
			if res.StatusCode >= 200 {
				answered++
			}
		}
		conn.Close()
	}
	// The dial, if any, starts before the INVITE's handler would run: an OPTIONS answered
	// after the last round comes after it.
	probe(t, "tcp", addr)
	if n := dialled.Load(); n > 0 {
		t.Fatalf("%d connections dialled to the Via host in %d rounds", n, rounds)
	}
	reliability.Log(t, reliability.Row{
		Test:   "sipsvc TestDblreqNoDialOut",
		Thrown: "RFC 4475 dblreq over TCP 100 times, its Via naming a listener of the test",
		Did: "answered on the request's connection (" + itoaTest(answered) +
			" final answers) or closed it at the framing error; never dialled the Via host",
		Lost: "nothing",
	})
}

func itoaTest(n int) string { return strconv.Itoa(n) }
