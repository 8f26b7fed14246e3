// Package metrics owns the sidecar's event metrics: histograms of call-setup time, profile
// build time and dialplan run time, RTP loss and jitter per call, calls by dialplan context
// and result, and the Go runtime and process collectors.
//
// A Metrics is owned by the process (cmd/sidecar creates one): it holds its own
// prometheus.Registry, never the global default one, and nothing here is package-level
// state. The SIP service, the router and the media plane call its typed methods
// (ObserveSetup, ObserveBuild, ObserveDialplan, CallEnded, ObserveMedia); every method is
// safe on a nil *Metrics, which records nothing, so tests and tools can leave it out.
// Only this package and admin import client_golang.
//
// Label values are bounded: a context is one of the names given by SetContexts (the
// dialplan's contexts), else "other" (or "none" when empty); a result is one of the Result
// constants; a setup class is "1xx".."6xx". No call-id, user or header value is ever a label.
package metrics
