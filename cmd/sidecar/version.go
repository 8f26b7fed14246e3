package main

import (
	"fmt"
	"io"
	"runtime/debug"
)

// version is set at link time by the Makefile (-X main.version=...).
var version = "dev"

func runVersion(_ []string, _ io.Reader, stdout, _ io.Writer) int {
	fmt.Fprintf(stdout, "sidecar %s\n", buildVersion())
	return 0
}

// buildVersion is the version "sidecar version" prints: the linked version, or dev-<commit>.
func buildVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok && version == "dev" {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				return "dev-" + s.Value[:12]
			}
		}
	}
	return version
}
