// Package sipsvc is the sidecar's SIP service: it wires sipgo to the rest of the product.
//
// It owns the listeners (UDP, TCP and TLS, IPv4 and IPv6), the trust check that runs before
// anything else, the OPTIONS keepalive Kamailio's dispatcher probes, the dialogs of calls
// (ACK, CANCEL, BYE from either side, re-INVITE, in-dialog OPTIONS and INFO), the limit on
// concurrent calls, panic recovery in every handler, and the graceful drain on shutdown.
//
// One INVITE runs, in order: trust (403 or silence for an untrusted source, counted, nothing
// else runs) -> max-calls (503 with Retry-After) -> request.FromSIP -> the identifier chain
// -> the caller and callee profiles -> dialplan.ContextFor and Plan.Run against the call,
// which implements dialplan.Channel and media.Carrier. Every error that ends an unanswered
// call becomes its SIP answer in one place (answer.go, through package sipstatus);
// docs/sip-service.md lists every answer and why.
//
// Logs are structured (log/slog) with the call id, the source, the identifier, the
// templates, the dialplan context and the trace of each call. Header values are never
// logged: they may carry secrets such as X-MailBoxPin.
package sipsvc
