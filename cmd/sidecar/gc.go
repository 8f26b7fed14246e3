package main

import (
	"log/slog"
	"os"
	"runtime/debug"
)

// defaultGOGC is the garbage collector's target that "sidecar serve" sets when the
// environment does not set GOGC: a call's SIP and media setup allocates ~40-50 KB that is
// garbage once the call ends, against ~16 KB live per active echo call (measured at 500
// calls: heap after a forced GC), so the default 100 spends ~17% of the CPU at 2,500
// calls/s collecting; 400 trades a larger heap (up to 5x the live heap between collections,
// and a 16 MB minimum heap goal instead of 4 MB) for a fraction of that (BENCHMARKS.md). At
// 500 active calls (bench/media.sh) the resident set per call measured the same with 100,
// 200 and 400 (within the run-to-run noise): the heap then peaks near that minimum either
// way. GOMEMLIMIT (unset by default) caps the heap when memory is tight; docs/operations.md.
const defaultGOGC = 400

// setGCDefaults applies defaultGOGC unless GOGC is set in the environment, and says which.
func setGCDefaults(log *slog.Logger) {
	if v, ok := os.LookupEnv("GOGC"); ok {
		log.Info("garbage collector", "gogc", v, "from", "environment", "gomemlimit", os.Getenv("GOMEMLIMIT"))
		return
	}
	debug.SetGCPercent(defaultGOGC)
	log.Info("garbage collector", "gogc", defaultGOGC, "from", "default", "gomemlimit", os.Getenv("GOMEMLIMIT"))
}
