package cdr_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sidecar-voip/sidecar/cdr"
)

func record(i int) *cdr.Record {
	start := time.Date(2026, 11, 25, 22, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Second)
	return &cdr.Record{
		Start: start, Answer: start.Add(20 * time.Millisecond), End: start.Add(3 * time.Second),
		CallID: fmt.Sprintf("call-%d", i), Identifier: "header", CallerTemplate: "subscriber",
		CalleeTemplate: "voicemail", Context: "default", Exten: "100",
		Apps: []string{"Answer", "Echo"}, Status: 200, EndedBy: "caller", Codec: "pcmu",
		RTP: &cdr.RTP{Sent: 150, Received: 148, Lost: 2, JitterMS: 1.25},
	}
}

func open(t *testing.T, cfg cdr.Config) *cdr.Writer {
	t.Helper()
	w, err := cdr.Open(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

func flush(t *testing.T, w *cdr.Writer) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
}

// lines reads a file of records: one valid JSON object per line.
func lines(t *testing.T, path string) []cdr.Record {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []cdr.Record
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		var r cdr.Record
		dec := json.NewDecoder(strings.NewReader(sc.Text()))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&r); err != nil {
			t.Fatalf("%s:%d: not a record: %v: %q", path, n, err, sc.Text())
		}
		out = append(out, r)
	}
	return out
}

// Concurrent writers give one JSON line per record, none lost or interleaved.
func TestWriteBurst(t *testing.T) {
	path := filepath.Join(t.TempDir(), "calls.json")
	w := open(t, cdr.Config{Path: path, Queue: 1000})
	var wg sync.WaitGroup
	for g := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				w.Write(record(g*50 + i))
			}
		}()
	}
	wg.Wait()
	flush(t, w)
	got := lines(t, path)
	if len(got) != 1000 || w.Stats().Written != 1000 || w.Stats().Dropped != 0 {
		t.Fatalf("%d lines, stats %+v; want 1000 written, none dropped", len(got), w.Stats())
	}
	seen := map[string]bool{}
	for _, r := range got {
		seen[r.CallID] = true
	}
	if len(seen) != 1000 {
		t.Errorf("%d distinct calls, want 1000", len(seen))
	}
	if d := cmp.Diff(*record(7), got[slicesIndex(got, "call-7")]); d != "" {
		t.Errorf("record round trip (-want +got):\n%s", d)
	}
}

func slicesIndex(rs []cdr.Record, id string) int {
	for i, r := range rs {
		if r.CallID == id {
			return i
		}
	}
	return -1
}

// The JSON names are the documented ones; an unanswered call has no answer and no rtp.
func TestRecordJSON(t *testing.T) {
	var b bytes.Buffer
	w := open(t, cdr.Config{Path: cdr.Stdout, Out: &b})
	start := time.Date(2026, 11, 25, 22, 0, 0, 0, time.UTC)
	w.Write(&cdr.Record{Start: start, End: start.Add(time.Millisecond), CallID: "x", Status: 403})
	w.Write(record(1))
	flush(t, w)
	want := `{"start":"2026-11-25T22:00:00Z","end":"2026-11-25T22:00:00.001Z","call_id":"x","apps":null,"status":403}
{"start":"2026-11-25T22:00:01Z","answer":"2026-11-25T22:00:01.02Z","end":"2026-11-25T22:00:04Z","call_id":"call-1","identifier":"header","caller_template":"subscriber","callee_template":"voicemail","context":"default","exten":"100","apps":["Answer","Echo"],"status":200,"ended_by":"caller","codec":"pcmu","rtp":{"sent":150,"received":148,"lost":2,"jitter_ms":1.25}}
`
	if d := cmp.Diff(want, b.String()); d != "" {
		t.Errorf("records (-want +got):\n%s", d)
	}
}

// blockingOut blocks every write until release is closed, after saying it was entered.
type blockingOut struct {
	entered chan struct{}
	release chan struct{}
	once    sync.Once
	mu      sync.Mutex
	b       bytes.Buffer
}

func (o *blockingOut) Write(p []byte) (int, error) {
	o.once.Do(func() { close(o.entered) })
	<-o.release
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.Write(p)
}

// A stuck output never blocks Write: past the queue, records are dropped and counted.
func TestDropWhenFull(t *testing.T) {
	out := &blockingOut{entered: make(chan struct{}), release: make(chan struct{})}
	w := open(t, cdr.Config{Path: cdr.Stdout, Out: out, Queue: 2})
	w.Write(record(0))
	<-out.entered // the writer holds record 0 and is stuck in the output
	for i := 1; i <= 7; i++ {
		w.Write(record(i)) // 1 and 2 fill the queue, 3..7 are dropped
	}
	if st := w.Stats(); st.Dropped != 5 {
		t.Errorf("stats %+v, want 5 dropped", st)
	}
	close(out.release)
	flush(t, w)
	out.mu.Lock()
	n := strings.Count(out.b.String(), "\n")
	out.mu.Unlock()
	if n != 3 {
		t.Errorf("%d lines written, want 3", n)
	}
}

// logrotate renames the file: the next batch goes to a new file at the path, and the
// renamed one keeps what was written before.
func TestReopenOnRename(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "calls.json")
	w := open(t, cdr.Config{Path: path, Check: time.Hour})
	w.Write(record(1))
	flush(t, w)
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	w.Write(record(2))
	flush(t, w)
	if got := lines(t, path+".1"); len(got) != 1 || got[0].CallID != "call-1" {
		t.Errorf("rotated file: %+v, want call-1 only", got)
	}
	if got := lines(t, path); len(got) != 1 || got[0].CallID != "call-2" {
		t.Errorf("new file: %+v, want call-2 only", got)
	}
	// Removed outright (logrotate's copy-and-delete, or an operator): recreated as well.
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	w.Write(record(3))
	flush(t, w)
	if got := lines(t, path); len(got) != 1 || got[0].CallID != "call-3" {
		t.Errorf("recreated file: %+v, want call-3 only", got)
	}
	if st := w.Stats(); st.Reopens != 2 {
		t.Errorf("stats %+v, want 2 reopens", st)
	}
}

// SIGUSR1 (logrotate's postrotate) reopens the file at once, with no record written and the
// idle check an hour away.
func TestReopenOnSignal(t *testing.T) {
	path := filepath.Join(t.TempDir(), "calls.json")
	w := open(t, cdr.Config{Path: path, Check: time.Hour})
	stop := w.NotifyReopen(syscall.SIGUSR1)
	defer stop()
	w.Write(record(1))
	flush(t, w)
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := os.Stat(path); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no new file at the path 10s after SIGUSR1")
		}
		time.Sleep(10 * time.Millisecond)
	}
	w.Write(record(2))
	flush(t, w)
	if got := lines(t, path); len(got) != 1 || got[0].CallID != "call-2" {
		t.Errorf("new file: %+v, want call-2 only", got)
	}
	if got := lines(t, path+".1"); len(got) != 1 {
		t.Errorf("rotated file: %d records, want 1", len(got))
	}
}

// Close writes what is queued; later records are dropped; a nil Writer does nothing.
func TestCloseAndNil(t *testing.T) {
	path := filepath.Join(t.TempDir(), "calls.json")
	w, err := cdr.Open(cdr.Config{Path: path}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		w.Write(record(i))
	}
	w.Close()
	w.Close()
	w.Write(record(11))
	if got := lines(t, path); len(got) != 10 {
		t.Errorf("%d records after Close, want 10", len(got))
	}
	if st := w.Stats(); st.Dropped != 1 {
		t.Errorf("stats %+v, want the record written after Close dropped", st)
	}
	if err := w.Flush(context.Background()); err != cdr.ErrClosed {
		t.Errorf("Flush after Close: %v", err)
	}
	var nw *cdr.Writer
	nw.Write(record(1))
	nw.Reopen()
	nw.NotifyReopen(syscall.SIGUSR1)()
	if err := nw.Close(); err != nil {
		t.Error(err)
	}
}

// Open names the file it cannot open.
func TestOpenError(t *testing.T) {
	_, err := cdr.Open(cdr.Config{Path: filepath.Join(t.TempDir(), "missing", "calls.json")}, nil)
	if err == nil || !strings.Contains(err.Error(), "open call records: open ") || !strings.Contains(err.Error(), "missing/calls.json") {
		t.Errorf("Open: %v", err)
	}
}
