// Command reliability reads `go test -v` output on stdin and rewrites the table of
// RELIABILITY.md (the file named by -file) from the RELIABILITY: rows in it. It fails when the
// output holds no row, so a broken run never empties the table.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/sidecar-voip/sidecar/internal/reliability"
)

func main() {
	file := flag.String("file", "RELIABILITY.md", "the document whose table is rewritten")
	flag.Parse()
	if err := run(*file); err != nil {
		fmt.Fprintln(os.Stderr, "reliability:", err)
		os.Exit(1)
	}
}

func run(file string) error {
	rows, err := reliability.Parse(os.Stdin)
	if err != nil {
		return err
	}
	if len(rows) == 0 {
		return fmt.Errorf("no %q rows in the test output", reliability.Prefix)
	}
	doc, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("read %s: %w", file, err)
	}
	out, err := reliability.Splice(string(doc), reliability.Table(rows))
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	if err := os.WriteFile(file, []byte(out), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", file, err)
	}
	fmt.Printf("%s: %d rows\n", file, len(rows))
	return nil
}
