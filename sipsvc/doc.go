// Package sipsvc is the sidecar's SIP service: it wires sipgo to the rest of the product.
//
// It owns the listeners (UDP, TCP and TLS, IPv4 and IPv6), the trust check that runs before
// anything else, the OPTIONS keepalive Kamailio's dispatcher probes, the dialogs of calls
// (ACK, CANCEL, BYE from either side, re-INVITE, in-dialog OPTIONS and INFO), the limit on
// concurrent calls, panic recovery in every handler, and the graceful drain on shutdown.
//
// One INVITE runs, in order: trust (403 or silence for an untrusted source, counted, nothing
// else runs) -> max-calls (503 with Retry-After) -> request.FromSIP -> routing.Router.Route
// (the identifier chain, the caller and callee profiles, the dialplan context) -> the plan
// run against the call, which implements dialplan.Channel (its media opened with
// dialplan.MediaFor). Every error that ends an unanswered call becomes its SIP answer in one
// place (answer.go: finalAnswer through package sipstatus, written by writeFinal);
// docs/sip-service.md lists every answer and why.
//
// A call's state is one state machine, callState in call.go: its phases (offered, early,
// answered, confirmed, ending, ended), the transition table and the lock rule (one mutex,
// taken only inside its methods) are on that type. The handlers (invite.go: INVITE and the
// ACK of its 200; dialog.go: ACK routing, BYE, INFO; reinvite.go: re-INVITE; channel.go: the
// dialplan's Channel methods) translate SIP messages into its transitions and perform the
// effects they return; none of them keeps call state of its own.
//
// Logs are structured (log/slog) with the call id, the source, the identifier, the
// templates, the dialplan context and the trace of each call. Header values are never
// logged: they may carry secrets such as X-MailBoxPin.
package sipsvc
