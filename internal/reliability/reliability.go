// Package reliability carries the rows of RELIABILITY.md from the tests that measure them to
// the file: a test logs one Row as a "RELIABILITY: {json}" line (Log), and `make reliability`
// runs those tests with -v and gives their output to the collector (cmd/reliability), which
// parses the lines (Parse) and writes the table (Table) between the markers of the file
// (Splice). The table is never edited by hand.
package reliability

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
)

// Prefix starts every row line in a test's output.
const Prefix = "RELIABILITY: "

// The markers around the generated table in RELIABILITY.md.
const (
	Begin = "<!-- make reliability: begin -->"
	End   = "<!-- make reliability: end -->"
)

// ErrNoMarkers is returned by Splice when the document lacks the begin or end marker.
var ErrNoMarkers = errors.New("reliability markers missing")

// Row is one line of the table: one test, what was thrown at the sidecar, what it did and
// what was lost.
type Row struct {
	// Test names the test: package and test name, e.g. "sipsvc TestTorture/udp".
	Test string `json:"test"`
	// Thrown is the load or fault: rate, count, duration.
	Thrown string `json:"thrown"`
	// Did is what the sidecar did about it.
	Did string `json:"did"`
	// Lost is what was lost ("nothing" when the test passed its own checks).
	Lost string `json:"lost"`
}

// Log writes r to t's log as one row line; `go test -v` prints it.
func Log(t testing.TB, r Row) {
	t.Helper()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatalf("marshal reliability row: %v", err)
	}
	t.Logf("%s%s", Prefix, b)
}

// Parse reads test output and returns the rows in it, the last one per test name, sorted by
// test name. Lines without the prefix are ignored.
func Parse(r io.Reader) ([]Row, error) {
	byTest := map[string]Row{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		_, js, ok := strings.Cut(sc.Text(), Prefix)
		if !ok {
			continue
		}
		var row Row
		if err := json.Unmarshal([]byte(js), &row); err != nil {
			return nil, fmt.Errorf("parse reliability row at line %d: %w", line, err)
		}
		if row.Test == "" {
			return nil, fmt.Errorf("parse reliability row at line %d: no test name", line)
		}
		byTest[row.Test] = row
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read test output: %w", err)
	}
	rows := make([]Row, 0, len(byTest))
	for _, r := range byTest {
		rows = append(rows, r)
	}
	slices.SortFunc(rows, func(a, b Row) int { return strings.Compare(a.Test, b.Test) })
	return rows, nil
}

// Table renders rows as a Markdown table.
func Table(rows []Row) string {
	var b strings.Builder
	b.WriteString("| test | thrown at the sidecar | what it did | lost |\n|---|---|---|---|\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", cell(r.Test), cell(r.Thrown), cell(r.Did), cell(r.Lost))
	}
	return b.String()
}

// cell escapes a value for a table cell.
func cell(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	return strings.ReplaceAll(s, "\n", " ")
}

// Splice returns doc with the text between its Begin and End markers replaced by table.
func Splice(doc, table string) (string, error) {
	i := strings.Index(doc, Begin)
	j := strings.Index(doc, End)
	if i < 0 || j < i {
		return "", fmt.Errorf("splice table: %w (%q ... %q)", ErrNoMarkers, Begin, End)
	}
	return doc[:i+len(Begin)] + "\n" + table + doc[j:], nil
}
