package reliability_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sidecar-voip/sidecar/internal/reliability"
)

func TestParseSpliceTable(t *testing.T) {
	out := `=== RUN   TestA
    a_test.go:10: RELIABILITY: {"test":"pkg TestB","thrown":"x","did":"y","lost":"nothing"}
    a_test.go:10: RELIABILITY: {"test":"pkg TestA","thrown":"old","did":"y","lost":"nothing"}
    a_test.go:10: RELIABILITY: {"test":"pkg TestA","thrown":"a | b","did":"y","lost":"nothing"}
--- PASS: TestA (0.00s)
`
	rows, err := reliability.Parse(strings.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	want := []reliability.Row{
		{Test: "pkg TestA", Thrown: "a | b", Did: "y", Lost: "nothing"},
		{Test: "pkg TestB", Thrown: "x", Did: "y", Lost: "nothing"},
	}
	if diff := cmp.Diff(want, rows); diff != "" {
		t.Fatalf("rows (-want +got):\n%s", diff)
	}
	doc := "# R\n\n" + reliability.Begin + "\nstale\n" + reliability.End + "\n\nafter\n"
	got, err := reliability.Splice(doc, reliability.Table(rows))
	if err != nil {
		t.Fatal(err)
	}
	wantDoc := "# R\n\n" + reliability.Begin + "\n| test | thrown at the sidecar | what it did | lost |\n|---|---|---|---|\n" +
		"| pkg TestA | a \\| b | y | nothing |\n| pkg TestB | x | y | nothing |\n" + reliability.End + "\n\nafter\n"
	if got != wantDoc {
		t.Fatalf("spliced:\n%s\nwant:\n%s", got, wantDoc)
	}
	if _, err := reliability.Splice("no markers", ""); !errors.Is(err, reliability.ErrNoMarkers) {
		t.Fatalf("Splice without markers: %v", err)
	}
	if _, err := reliability.Parse(strings.NewReader("RELIABILITY: {bad")); err == nil {
		t.Fatal("Parse of a broken row: no error")
	}
}
