package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/sidecar-voip/sidecar/cdr"
)

// cdrPIN is the PIN the load test's calls carry in X-MailBoxPin: long enough that finding
// its digits anywhere in a file means the PIN leaked, not a timestamp or a Call-ID.
const cdrPIN = "73519046288"

// TestCallRecordsUnderLoad runs a real `sidecar serve` with [cdr] path set and SIPp placing
// 500 calls at 150 per second straight at it, alternately *486 (busy) and *43 (echo with
// audio), as the subscriber template with a mailbox PIN. Mid-run the record file is rotated
// as logrotate does (renamed, then SIGUSR1). Then every SIPp call has exactly one record
// across both files, every line is JSON with the documented fields, consistent with the
// call's extension, and the PIN is in neither file nor in the sidecar's log.
func TestCallRecordsUnderLoad(t *testing.T) {
	requireE2E(t)
	const calls, rate = 500, 150
	dir := newRunDir(t)
	path := filepath.Join(dir, "calls.json")
	rotated := path + ".1"
	// The subscriber template publishes dialog state: a presence server stand-in takes it, so
	// that the PUBLISHes do not go to SIPp (the source of the calls), which ignores them.
	presence, published := presenceStandIn(t)
	sc := startExampleSidecarWith(t, dir, 800, fmt.Sprintf("[cdr]\npath = %s\n[presence]\nserver = sip:%s\n", path, presence))

	inf := filepath.Join(dir, "cdr.csv")
	var lines strings.Builder
	lines.WriteString("SEQUENTIAL\n")
	for i := 0; i < calls; i++ {
		lines.WriteString([]string{"*486;\n", "*43;\n"}[i%2])
	}
	mustWrite(t, inf, lines.String())
	load := &sipp{name: "cdr-load", scenario: "cdr_mix.xml", ip: kamIP, calls: calls, rate: rate, limit: 400,
		keys:  map[string]string{"user": "alice", "mailbox": "2000", "pin": cdrPIN},
		extra: []string{"-inf", inf}}
	load.background(t, dir, sc.sip)

	// Rotate once a good part of the run has its records, while calls go on.
	err := eventually(30*time.Second, func() error {
		n := countLines(t, path)
		if n >= calls/4 {
			return nil
		}
		if !load.proc.running() {
			return fmt.Errorf("SIPp ended with only %d records written: nothing left to rotate under: %s", n, tail(load.proc.log, 20))
		}
		return fmt.Errorf("%d records so far", n)
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(path, rotated); err != nil {
		t.Fatal(err)
	}
	if err := sc.signal(syscall.SIGUSR1); err != nil {
		t.Fatalf("SIGUSR1 to the sidecar: %v", err)
	}
	atRotation := countLines(t, rotated)
	stillRunning := load.proc.running()

	if ok, err := load.proc.wait(120 * time.Second); !ok || err != nil {
		t.Fatalf("SIPp: every call must get its answer (exited %v): %v; see %s.err", ok, err, load.name)
	}
	if !stillRunning {
		t.Fatalf("SIPp had finished before the rotation: it did not happen mid-run")
	}
	ids := sippInviteCallIDs(t, filepath.Join(dir, load.name+".msg"))
	if len(ids) != calls {
		t.Fatalf("SIPp's trace has %d INVITE Call-IDs, want %d", len(ids), calls)
	}
	err = eventually(15*time.Second, func() error {
		if n := countLines(t, rotated) + countLines(t, path); n < calls {
			return fmt.Errorf("%d records across both files, want %d", n, calls)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	seen := map[string]int{}
	byExten := map[string]int{}
	for _, f := range []string{rotated, path} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte(cdrPIN)) {
			t.Errorf("%s holds the PIN", filepath.Base(f))
		}
		for i, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
			if line == "" {
				t.Errorf("%s:%d: empty line", filepath.Base(f), i+1)
				continue
			}
			r := checkCallRecord(t, fmt.Sprintf("%s:%d", filepath.Base(f), i+1), line)
			seen[r.CallID]++
			byExten[r.Exten]++
		}
	}
	for id := range ids {
		if seen[id] != 1 {
			t.Errorf("call %s has %d records, want 1", id, seen[id])
		}
	}
	for id, n := range seen {
		if !ids[id] {
			t.Errorf("record for call %s (%d lines) that SIPp did not place", id, n)
		}
	}
	if byExten["*43"] != calls/2 || byExten["*486"] != calls/2 {
		t.Errorf("records by extension %v, want %d of *43 and of *486", byExten, calls/2)
	}
	after := countLines(t, path)
	if atRotation < calls/4 || after == 0 {
		t.Errorf("rotation: %d records in the renamed file, %d in the reopened one; want both files used", atRotation, after)
	}
	if log, err := os.ReadFile(sc.log); err == nil && bytes.Contains(log, []byte(cdrPIN)) {
		t.Errorf("the sidecar's log holds the PIN")
	}
	t.Logf("%d calls at %d/s: %d records in the rotated file, %d after SIGUSR1; by extension %v; %d BLF PUBLISHes",
		calls, rate, countLines(t, rotated), after, byExten, published.Load())
}

// checkCallRecord decodes one call record line, checks its fields against what the call did
// (where says which file and line) and returns it.
func checkCallRecord(t *testing.T, where, line string) cdr.Record {
	t.Helper()
	var fields map[string]json.RawMessage
	if err := json.Unmarshal([]byte(line), &fields); err != nil {
		t.Errorf("%s: not JSON: %v: %s", where, err, line)
		return cdr.Record{}
	}
	var r cdr.Record
	dec := json.NewDecoder(strings.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		t.Errorf("%s: not a documented call record: %v: %s", where, err, line)
		return r
	}
	fail := func(format string, args ...any) {
		t.Helper()
		t.Errorf("%s: %s: %s", where, fmt.Sprintf(format, args...), line)
	}
	for _, k := range []string{"start", "end", "call_id", "identifier", "caller_template", "context", "exten", "apps", "status"} {
		if _, ok := fields[k]; !ok {
			fail("no %q", k)
		}
	}
	if r.Start.IsZero() || r.End.Before(r.Start) {
		fail("start %v, end %v", r.Start, r.End)
	}
	if r.Identifier != "header" || r.CallerTemplate != "subscriber" || r.Context != "from-subscriber" {
		fail("identifier %q, caller template %q, context %q; want header, subscriber, from-subscriber",
			r.Identifier, r.CallerTemplate, r.Context)
	}
	switch r.Exten {
	case "*43":
		if r.Status != 200 || r.Answer.IsZero() || r.Answer.Before(r.Start) || r.End.Before(r.Answer) {
			fail("echo call: status %d, answer %v", r.Status, r.Answer)
		}
		if !slices.Contains(r.Apps, "Answer") || !slices.Contains(r.Apps, "Echo") {
			fail("echo call: apps %v", r.Apps)
		}
		if r.Codec != "pcma" {
			fail("echo call: codec %q, want pcma", r.Codec)
		}
		var rtp map[string]json.RawMessage
		json.Unmarshal(fields["rtp"], &rtp)
		_, hasLost := rtp["lost"]
		if r.RTP == nil || r.RTP.Received == 0 || r.RTP.Sent == 0 || !hasLost {
			fail("echo call: RTP %+v, want packets both ways and a loss count", r.RTP)
		}
		if r.EndedBy != "caller" {
			fail("echo call ended by %q, want caller", r.EndedBy)
		}
	case "*486":
		if r.Status != 486 {
			fail("busy call: status %d", r.Status)
		}
		if _, ok := fields["answer"]; ok {
			fail("busy call with an answer time")
		}
		if !slices.Contains(r.Apps, "Busy") {
			fail("busy call: apps %v", r.Apps)
		}
	default:
		fail("extension %q, want *43 or *486", r.Exten)
	}
	return r
}

// countLines counts the lines of a file (0 when it does not exist).
func countLines(t *testing.T, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		if os.IsNotExist(err) {
			return 0
		}
		t.Fatal(err)
	}
	return bytes.Count(b, []byte("\n"))
}

// sippInviteCallIDs returns the Call-IDs of the INVITEs in a SIPp message trace (-trace_msg).
func sippInviteCallIDs(t *testing.T, trace string) map[string]bool {
	t.Helper()
	b, err := os.ReadFile(trace)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, block := range strings.Split(string(b), "----------------------------------------------- ") {
		i := strings.Index(block, "message sent")
		if i < 0 {
			continue
		}
		_, msg, ok := strings.Cut(block[i:], "\n")
		if !ok || !strings.HasPrefix(strings.TrimLeft(msg, "\r\n"), "INVITE ") {
			continue
		}
		for _, v := range headerValues(strings.TrimLeft(msg, "\r\n"), "Call-ID") {
			ids[v] = true
		}
	}
	return ids
}

// presenceStandIn answers every PUBLISH 200 with an entity-tag, on a free UDP port of
// 127.0.0.1, until the test ends; it returns its address and the count of PUBLISHes.
func presenceStandIn(t *testing.T) (string, *atomic.Int64) {
	t.Helper()
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("presence-stand-in"))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sipgo.NewServer(ua)
	if err != nil {
		t.Fatal(err)
	}
	var n atomic.Int64
	srv.OnPublish(func(req *sip.Request, tx sip.ServerTransaction) {
		res := sip.NewResponseFromRequest(req, 200, "OK", nil)
		res.AppendHeader(sip.NewHeader("SIP-ETag", fmt.Sprintf("e%d", n.Add(1))))
		res.AppendHeader(sip.NewHeader("Expires", "3600"))
		tx.Respond(res)
	})
	pc, err := net.ListenPacket("udp", kamIP+":0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.ServeUDP(pc)
	t.Cleanup(func() { ua.Close(); pc.Close() })
	return pc.LocalAddr().String(), &n
}
