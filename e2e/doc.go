// Package e2e holds the end-to-end suite: real Kamailio 5.6 running examples/kamailio.cfg on
// free loopback ports, real sidecar processes built from ./cmd/sidecar, and SIPp phones.
//
// The tests run only when SIDECAR_E2E is set (make e2e, make test); without it they skip, so
// `go test ./...` stays Go-only. With it set, missing kamailio, kamcmd or sipp binaries fail
// the suite instead of skipping it. Every process is started and stopped by the suite itself,
// by pid; the run folder with all logs is kept (and its path printed) when a test fails.
package e2e
