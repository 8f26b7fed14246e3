package main

import (
	"fmt"
	"io"
)

// runRender is replaced by the issue that builds "sidecar render".
func runRender(_ []string, _ io.Reader, _, stderr io.Writer) int {
	fmt.Fprintln(stderr, "sidecar render: not built yet")
	return 1
}
