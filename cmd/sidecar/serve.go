package main

import (
	"fmt"
	"io"
)

// runServe is replaced by the issue that builds "sidecar serve".
func runServe(_ []string, _ io.Reader, _, stderr io.Writer) int {
	fmt.Fprintln(stderr, "sidecar serve: not built yet")
	return 1
}
