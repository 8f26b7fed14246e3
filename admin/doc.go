// Package admin is the sidecar's operator HTTP endpoint: health for systemd and load
// balancers, Prometheus metrics, and a JSON status page.
//
// It serves these resources, all GET (HEAD also works):
//
//   - /healthz: 200 "ok", or 503 "draining" while the SIP service drains. It does not
//     depend on Kamailio.
//   - /metrics: the Prometheus text exposition format 0.0.4, encoded by client_golang:
//     every counter of sipsvc.Stats, the media plane's active sessions and totals,
//     sidecar_build_info and the start time (read once per scrape), plus the families of
//     Options.Metrics (package metrics: histograms, calls by context and result, Go runtime
//     and process). Families are sorted by name.
//   - /status: the same figures as JSON, with the version, uptime and drain state.
//   - /: the status page for people (page.go, page.html and static/, embedded): live calls,
//     templates with file:line, reload and push errors (planned; Options.Errors), counters,
//     and a render form that POSTs to / and shows what Options.Render makes of a request.
//
// Any other path gets 404 and any other method 405 with an Allow header. Handlers recover
// panics and answer 500. Nothing secret is exposed: there is no configuration dump.
//
// The endpoint binds to loopback unless the operator sets [admin] allow-remote = yes; Listen
// and Serve both refuse a non-loopback address otherwise (ErrRemote), even when the
// configuration was validated before. docs/admin.md is the operator's reference.
package admin
