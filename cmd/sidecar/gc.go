package main

import (
	"log/slog"
	"os"
	"runtime/debug"
)

// defaultGOGC is the garbage collector's target that "sidecar serve" sets when the
// environment does not set GOGC: a call's SIP and media setup allocates ~50 KB that is
// garbage once the call ends, and little stays live (a few KB per active call), so the
// default 100 spends ~17% of the CPU at 2,500 calls/s collecting; 400 trades a larger heap
// (about 5x the live heap between collections) for a fraction of that (BENCHMARKS.md).
// GOMEMLIMIT (unset by default) caps the heap when memory is tight; docs/operations.md.
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
