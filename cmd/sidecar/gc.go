package main

import (
	"log/slog"
	"os"
	"runtime/debug"
)

// defaultGOGC is the garbage collector's target that "sidecar serve" sets when the
// environment does not set GOGC: Go's own default, 100, chosen by measurement on the quiet
// 2-core machine (2026-12-06, bench/cps.sh at 5,000 answered calls/s and bench/media.sh at
// 500 echo calls, the same binary alternated): an answered echo call allocates ~32 KB during
// setup and keeps ~11.5 KB live plus a 4-8 KB stack while it lasts, so 400 (this program's
// default until then) saved ~7% of the CPU per call at 5,000 calls/s (183 against 198 us,
// three runs each, within the run-to-run noise) but held ~37 KiB of resident memory per
// active call against ~30 KiB with 100: the heap may grow to (1 + GOGC/100) times the live
// heap between collections, with a minimum goal of 4 MB x GOGC/100. GOGC=400 in the
// environment is the CPU-for-memory trade for a node short of CPU; GOMEMLIMIT (unset by
// default) caps the heap when memory is tight (docs/deployment.md).
const defaultGOGC = 100

// setGCDefaults applies defaultGOGC unless GOGC is set in the environment, and says which.
func setGCDefaults(log *slog.Logger) {
	if v, ok := os.LookupEnv("GOGC"); ok {
		log.Info("garbage collector", "gogc", v, "from", "environment", "gomemlimit", os.Getenv("GOMEMLIMIT"))
		return
	}
	debug.SetGCPercent(defaultGOGC)
	log.Info("garbage collector", "gogc", defaultGOGC, "from", "default", "gomemlimit", os.Getenv("GOMEMLIMIT"))
}
