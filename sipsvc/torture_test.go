package sipsvc_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/sidecar-voip/sidecar/internal/reliability"
)

// The RFC 4475 torture messages ship in sipgo's module (sip/testdata/torture/{valid,invalid}).
// Each is sent as it is, from a trusted source, over UDP and over TCP, to a running service.

// tortureWant is what the service must do with one torture message.
type tortureWant int

const (
	// answer: a request the service can act on: any final response. Over TCP it comes back
	// on the connection the request came on.
	answer tortureWant = iota
	// refuse: a malformed request: 400, or silence (sipgo cannot parse it, or cannot
	// frame it on a stream and closes the connection, RFC 3261 18.3).
	refuse
	// silence: a response, or noise: nothing comes back.
	silence
)

// tortureCases classifies every file of the set by RFC 4475's own reading: section 3.1.1
// (valid), 3.1.2 (syntactically invalid), 3.2 and 3.3 (well-formed, but semantically odd:
// answered, the RFC suggesting a code), 3.4 (RFC 2543 backward compatibility).
var tortureCases = map[string]struct {
	want tortureWant
	note string
}{
	"valid/wsinv":      {answer, "3.1.1.1; sipgo reads no From tag through the LWS: 400"},
	"valid/intmeth":    {answer, "3.1.1.2"},
	"valid/esc01":      {answer, "3.1.1.3"},
	"valid/escnull":    {answer, "3.1.1.4"},
	"valid/esc02":      {answer, "3.1.1.5"},
	"valid/lwsdisp":    {answer, "3.1.1.6"},
	"valid/longreq":    {answer, "3.1.1.7"},
	"valid/dblreq":     {answer, "3.1.1.8"},
	"valid/semiuri":    {answer, "3.1.1.9"},
	"valid/transports": {answer, "3.1.1.10"},
	"valid/mpart01":    {answer, "3.1.1.11"},
	"valid/unreason":   {silence, "3.1.1.12: a response"},
	"valid/noreason":   {silence, "3.1.1.13: a response"},

	"invalid/badinv01":   {refuse, "3.1.2.1"},
	"invalid/clerr":      {refuse, "3.1.2.2"},
	"invalid/ncl":        {refuse, "3.1.2.3"},
	"invalid/scalar02":   {refuse, "3.1.2.4"},
	"invalid/scalarlg":   {silence, "3.1.2.5: a response"},
	"invalid/quotbal":    {refuse, "3.1.2.6"},
	"invalid/ltgtruri":   {refuse, "3.1.2.7"},
	"invalid/lwsruri":    {refuse, "3.1.2.8"},
	"invalid/lwsstart":   {refuse, "3.1.2.9"},
	"invalid/trws":       {refuse, "3.1.2.10"},
	"invalid/escruri":    {answer, "3.1.2.11: 400, or accepted ignoring the escaped headers"},
	"invalid/baddate":    {answer, "3.1.2.12: processed as if Date were absent"},
	"invalid/regbadct":   {answer, "3.1.2.13: REGISTER, which the service does not handle"},
	"invalid/badaspec":   {refuse, "3.1.2.14"},
	"invalid/baddn":      {refuse, "3.1.2.15"},
	"invalid/badvers":    {answer, "3.1.2.16: 505"},
	"invalid/mismatch01": {refuse, "3.1.2.17"},
	"invalid/mismatch02": {refuse, "3.1.2.18"},
	"invalid/bigcode":    {silence, "3.1.2.19: a response"},
	"invalid/badbranch":  {answer, "3.2.1"},
	"invalid/insuf":      {answer, "3.3.1: 400"},
	"invalid/unkscm":     {answer, "3.3.2: RFC suggests 416"},
	"invalid/novelsc":    {refuse, "3.3.3: sipgo refuses the URI scheme"},
	"invalid/unksm2":     {answer, "3.3.4"},
	"invalid/bext01":     {answer, "3.3.5: 420"},
	"invalid/invut":      {answer, "3.3.6: 415"},
	"invalid/regaut01":   {answer, "3.3.7"},
	"invalid/multi01":    {refuse, "3.3.8: 400"},
	"invalid/mcl01":      {refuse, "3.3.9: 400"},
	"invalid/bcast":      {silence, "3.3.10: a response"},
	"invalid/zeromf":     {answer, "3.3.11"},
	"invalid/cparam01":   {answer, "3.3.12"},
	"invalid/cparam02":   {answer, "3.3.13"},
	"invalid/regescrt":   {answer, "3.3.14"},
	"invalid/sdp01":      {answer, "3.3.15: RFC suggests 406"},
	"invalid/inv2543":    {answer, "3.4: sipgo requires a From tag: 400"},
	"invalid/test":       {refuse, "sipgo's own: a Via without a branch"},
}

// tortureOverTCP and tortureOverUDP override tortureCases for one transport.
var (
	tortureOverTCP = map[string]struct {
		want tortureWant
		note string
	}{
		// RFC 3261 18.3: on a stream, the bytes after the REGISTER frame an INVITE whose body
		// is followed by garbage; sipgo closes the connection at the garbage (the REGISTER's
		// 405 races the close) and never answers anywhere else (TestDblreqNoDialOut).
		"valid/dblreq": {refuse, "3.1.1.8 over TCP: the trailing bytes end in a framing error, the connection is closed"},
		// No Content-Length on a stream: nothing frames the message (RFC 3261 20.14).
		"invalid/inv2543": {refuse, "3.4 over TCP: no Content-Length on a stream, the connection is closed"},
	}
	tortureOverUDP = map[string]struct {
		want tortureWant
		note string
	}{
		// sipgo sends no UDP datagram over 1300 bytes (ErrUDPMTUCongestion); the answer
		// to this 4 KB request, which echoes its headers, is larger.
		"valid/longreq": {refuse, "3.1.1.7 over UDP: the answer is over sipgo's 1300-byte UDP limit and is not sent"},
	}
)

// tortureCase returns the classification of name over transport.
func tortureCase(name, transport string) (tortureWant, string) {
	over := tortureOverUDP
	if transport == "tcp" {
		over = tortureOverTCP
	}
	if c, ok := over[name]; ok {
		return c.want, c.note
	}
	c := tortureCases[name]
	return c.want, c.note
}

// tortureDir returns sipgo's torture directory in the module cache.
func tortureDir(t testing.TB) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/emiago/sipgo").Output()
	if err != nil {
		t.Fatalf("find sipgo's module: %v", err)
	}
	dir := filepath.Join(strings.TrimSpace(string(out)), "sip", "testdata", "torture")
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("torture messages: %v", err)
	}
	return dir
}

// tortureFile is one message of the set.
type tortureFile struct {
	name string // "valid/dblreq"
	data []byte
}

func tortureFiles(t testing.TB) []tortureFile {
	t.Helper()
	dir := tortureDir(t)
	var files []tortureFile
	for _, kind := range []string{"valid", "invalid"} {
		paths, _ := filepath.Glob(filepath.Join(dir, kind, "*.dat"))
		for _, p := range paths {
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			name := kind + "/" + strings.TrimSuffix(filepath.Base(p), ".dat")
			if _, ok := tortureCases[name]; !ok {
				t.Errorf("%s: not classified in tortureCases", name)
			}
			files = append(files, tortureFile{name: name, data: data})
		}
	}
	if len(files) < 40 {
		t.Fatalf("only %d torture messages in %s", len(files), dir)
	}
	return files
}

// txKeyOf returns what names a server transaction of a request sipgo parses (top Via branch
// and sent-by, CSeq method), "" for anything else.
func txKeyOf(data []byte) string {
	m, err := sip.ParseMessage(data)
	if err != nil {
		return ""
	}
	req, ok := m.(*sip.Request)
	if !ok || req.Via() == nil || req.CSeq() == nil {
		return ""
	}
	v := req.Via()
	b, _ := v.Params.Get("branch")
	return fmt.Sprintf("%s|%s|%d|%s", b, v.Host, v.Port, req.CSeq().MethodName)
}

// withRport adds ;rport to the first Via value of a UDP message, so the answer comes back
// to the test's socket rather than to port 5060 of the source (RFC 3261 18.2.2); the rest
// of the message is untouched.
func withRport(data []byte) []byte {
	lines := strings.SplitAfter(string(data), "\n")
	for i, line := range lines {
		k, _, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		k = strings.TrimSpace(k)
		if !strings.EqualFold(k, "Via") && !strings.EqualFold(k, "v") {
			continue
		}
		if j := strings.Index(line, ";"); j > 0 {
			lines[i] = line[:j] + ";rport" + line[j:]
		}
		break
	}
	return []byte(strings.Join(lines, ""))
}

// outcome is what came back for one message: final status codes in order, and for TCP
// whether the connection was closed by the service.
type outcome struct {
	codes  []int
	closed bool
}

func (o outcome) String() string {
	if len(o.codes) == 0 && o.closed {
		return "connection closed, no answer"
	}
	if len(o.codes) == 0 {
		return "silence"
	}
	return fmt.Sprint(o.codes)
}

// check reports what is wrong with o for want ("" when it is right).
func (o outcome) check(want tortureWant) string {
	switch want {
	case answer:
		if len(o.codes) == 0 {
			return "no final response to a request the service can act on"
		}
	case refuse:
		for _, c := range o.codes {
			if c != 400 {
				return fmt.Sprintf("answered %d to a malformed request, want 400 or silence", c)
			}
		}
	case silence:
		if len(o.codes) > 0 {
			return fmt.Sprintf("answered %v to a response", o.codes)
		}
	}
	return ""
}

// settle waits until the goroutine count is back to at most base (plus slack), and returns
// the last count; the heap after GC is returned too.
func settle(base int, timeout time.Duration) (goroutines int, heap uint64) {
	deadline := time.Now().Add(timeout)
	for {
		runtime.GC()
		goroutines = runtime.NumGoroutine()
		if goroutines <= base || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return goroutines, ms.HeapAlloc
}

// Every torture message over UDP and over TCP: each request the service can act on gets a
// final answer (over TCP on its own connection), each malformed one 400 or silence, each
// response nothing; afterwards the service answers OPTIONS, and its goroutines and heap are
// back to their baseline.
func TestTorture(t *testing.T) {
	files := tortureFiles(t)
	for _, transport := range []string{"udp", "tcp"} {
		t.Run(transport, func(t *testing.T) {
			// Over UDP a server transaction outlives its answer by 32 s, so two messages of the
			// set with the same branch, sent-by and method (cparam01 and cparam02, ...) would
			// be one transaction: each such later message goes to a service of its own.
			var addrs []netip.AddrPort
			for range 3 {
				e := startEnv(t, nil)
				addr := e.udp
				if transport == "tcp" {
					addr = tcpAddrOf(t, e)
				}
				addrs = append(addrs, addr)
			}
			// Baseline: one OPTIONS answered, so every lazily started goroutine runs.
			for _, addr := range addrs {
				probe(t, transport, addr)
			}
			baseG, baseHeap := settle(0, 0)
			results := map[string]outcome{}
			seen := make([]map[string]bool, len(addrs))
			for i := range seen {
				seen[i] = map[string]bool{}
			}
			for _, f := range files {
				i := 0
				if k := txKeyOf(f.data); k != "" && transport == "udp" {
					for i < len(addrs)-1 && seen[i][k] {
						i++
					}
					seen[i][k] = true
				}
				if transport == "udp" {
					results[f.name] = tortureUDP(t, addrs[i], f)
				} else {
					results[f.name] = tortureTCP(t, addrs[i], f)
				}
			}
			names := make([]string, 0, len(results))
			for n := range results {
				names = append(names, n)
			}
			slices.Sort(names)
			answered, refused := 0, 0
			for _, n := range names {
				want, note := tortureCase(n, transport)
				o := results[n]
				if len(o.codes) > 0 {
					answered++
				} else {
					refused++
				}
				t.Logf("%-20s %-32s (%s)", n, o, note)
				if why := o.check(want); why != "" {
					t.Errorf("%s over %s: %s", n, transport, why)
				}
			}
			// Alive, and back to baseline: the UDP transactions linger 32 s (timer J), so
			// their memory is bounded rather than zero; goroutines must return.
			for _, addr := range addrs {
				probe(t, transport, addr)
			}
			g, heap := settle(baseG+2, 45*time.Second)
			if g > baseG+2 {
				t.Errorf("goroutines: %d after the torture, %d before", g, baseG)
			}
			const heapSlack = 8 << 20
			if heap > baseHeap+heapSlack {
				t.Errorf("heap after GC: %d bytes after the torture, %d before (slack %d)", heap, baseHeap, heapSlack)
			}
			reliability.Log(t, reliability.Row{
				Test:   "sipsvc TestTorture/" + transport,
				Thrown: fmt.Sprintf("the %d RFC 4475 torture messages over %s, each once, from a trusted source", len(files), strings.ToUpper(transport)),
				Did: fmt.Sprintf("%d answered (each well-formed request with a final response%s), %d refused by 400 or silence; OPTIONS answered after",
					answered, map[string]string{"tcp": ", on its own connection", "udp": ""}[transport], refused),
				Lost: fmt.Sprintf("nothing: goroutines %d -> %d, heap %d KiB -> %d KiB", baseG, g, baseHeap>>10, heap>>10),
			})
		})
	}
}

func tcpAddrOf(t *testing.T, e *env) netip.AddrPort {
	t.Helper()
	for _, l := range e.srv.Addrs() {
		if l.Transport == "tcp" {
			return l.Addr
		}
	}
	t.Fatal("no tcp listener")
	return netip.AddrPort{}
}

// probe sends one OPTIONS over transport and wants 200.
func probe(t *testing.T, transport string, addr netip.AddrPort) {
	t.Helper()
	if transport == "udp" {
		u := newRawUAC(t, "127.0.0.1", addr)
		defer u.conn.Close()
		u.send(u.text(&msg{method: "OPTIONS", ruri: "sip:" + addr.String()}))
		if res := u.final(5 * time.Second); res.StatusCode != 200 {
			t.Fatalf("OPTIONS: %d", res.StatusCode)
		}
		return
	}
	conn, err := net.Dial("tcp", addr.String())
	if err != nil {
		t.Fatal(err)
	}
	u := newStreamUAC(t, conn, addr, "TCP")
	u.send(u.text(&msg{method: "OPTIONS", ruri: "sip:" + addr.String()}))
	if res := u.final(5 * time.Second); res.StatusCode != 200 {
		t.Fatalf("OPTIONS: %d", res.StatusCode)
	}
	conn.Close()
}

// tortureQuiet is how long a message that may get no answer is given to get one anyway.
const tortureQuiet = 300 * time.Millisecond

// tortureUDP sends f from a fresh socket and collects the final responses to its Call-ID: until
// the first one for a request to answer (5 s at most), for tortureQuiet otherwise.
func tortureUDP(t *testing.T, addr netip.AddrPort, f tortureFile) outcome {
	t.Helper()
	u := newRawUAC(t, "127.0.0.1", addr)
	defer u.conn.Close()
	u.send(string(withRport(f.data)))
	want, _ := tortureCase(f.name, "udp")
	wait := tortureQuiet
	if want == answer {
		wait = 5 * time.Second
	}
	var o outcome
	deadline := time.Now().Add(wait)
	for {
		m := u.next(time.Until(deadline))
		if m == nil {
			return o
		}
		if r, ok := m.(*sip.Response); ok && r.StatusCode >= 200 {
			o.codes = append(o.codes, r.StatusCode)
			if want == answer {
				// One more moment for a second answer (dblreq's is one message over UDP).
				deadline = time.Now().Add(tortureQuiet)
			}
		}
	}
}

// tortureTCP sends f on a new connection and reads final responses from that connection
// until it closes, or until the first one (then tortureQuiet more) for a request to answer, or tortureQuiet.
func tortureTCP(t *testing.T, addr netip.AddrPort, f tortureFile) outcome {
	t.Helper()
	conn, err := net.Dial("tcp", addr.String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write(f.data); err != nil {
		t.Fatal(err)
	}
	wait := tortureQuiet
	if want, _ := tortureCase(f.name, "tcp"); want == answer {
		wait = 5 * time.Second
	}
	conn.SetReadDeadline(time.Now().Add(wait))
	r := bufio.NewReader(conn)
	var o outcome
	for {
		res, err := readResponse(r)
		if err != nil {
			o.closed = err == io.EOF || err == io.ErrUnexpectedEOF || isReset(err)
			return o
		}
		if res.StatusCode >= 200 {
			o.codes = append(o.codes, res.StatusCode)
			conn.SetReadDeadline(time.Now().Add(tortureQuiet))
		}
	}
}

func isReset(err error) bool {
	return strings.Contains(err.Error(), "connection reset")
}

// readResponse reads one SIP message from a stream; it fails on anything but a response.
func readResponse(r *bufio.Reader) (*sip.Response, error) {
	var head bytes.Buffer
	length := 0
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return nil, err
		}
		head.WriteString(line)
		if line == "\r\n" {
			break
		}
		if k, v, ok := strings.Cut(line, ":"); ok && (strings.EqualFold(strings.TrimSpace(k), "Content-Length") || strings.TrimSpace(k) == "l") {
			length, _ = strconv.Atoi(strings.TrimSpace(v))
		}
	}
	body := make([]byte, length)
	if _, err := io.ReadFull(r, body); err != nil {
		return nil, err
	}
	m, err := sip.ParseMessage(append(head.Bytes(), body...))
	if err != nil {
		return nil, err
	}
	res, ok := m.(*sip.Response)
	if !ok {
		return nil, fmt.Errorf("not a response: %s", strings.SplitN(m.String(), "\r\n", 2)[0])
	}
	return res, nil
}
