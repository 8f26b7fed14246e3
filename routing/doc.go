// Package routing turns settings and template files into the one immutable value that routes
// calls, and routes them.
//
// Load compiles, in order, the profile templates (profile.Set), the dialplan (dialplan.Plan,
// against the one application registry the caller passes) and the identifier chain that
// [sip] identify names, into a Bundle, with every "file:line" error and warning found on the
// way. "sidecar serve", "sidecar check" and "sidecar render" all load through it, so a file
// set that checks clean is one serve accepts.
//
// Bundle.Route is the one routing function: request -> identification (which identifier,
// the caller's and callee's template selections) -> both profiles -> the dialplan context
// and extension -> the plan to run. The SIP service calls it for every INVITE and then runs
// the plan; Render calls it for a raw request and explains the outcome as JSON, with the
// matched extension's arguments expanded.
//
// A Bundle never changes once loaded. A hot reload loads a new one aside and swaps it in a
// Live (an atomic pointer that is itself a Router): calls already routed keep the profiles
// and the plan they were routed with. Reloader does that for SIGHUP, POST /reload and the
// file watcher: it loads aside, swaps only a load without error (else keeps the running
// bundle and reports every "file:line" error), serialises reloads and counts them (Stats).
package routing
