package sipsvc

import (
	"maps"
	"sync"
	"sync/atomic"

	"github.com/sidecar-voip/sidecar/dialoginfo"
	"github.com/sidecar-voip/sidecar/mwi"
	"github.com/sidecar-voip/sidecar/publish"
)

// Stats is a snapshot of the service's counters since New.
type Stats struct {
	// Untrusted counts requests refused, datagrams discarded and connections closed because
	// their source is not trusted.
	Untrusted uint64
	// Malformed counts datagrams from trusted sources discarded at the socket as not SIP
	// (framing.go): no start line, no end of the header section, a body shorter than its
	// Content-Length, or larger than the read buffer.
	Malformed uint64
	// CallsActive is the number of INVITEs being handled now (the max-calls gauge).
	CallsActive int
	// CallsTotal counts INVITEs that got a call slot.
	CallsTotal uint64
	// Answered counts calls answered with 200 OK.
	Answered uint64
	// NoACK counts answered calls ended because the 200 OK was never acknowledged.
	NoACK uint64
	// Options counts out-of-dialog OPTIONS answered (200 or 503).
	Options uint64
	// Rejected counts final error answers sent to requests, by status code (403, 486, 503...).
	Rejected map[int]uint64
	// Panics counts handler panics recovered.
	Panics uint64
	// InviteRetransmissions counts INVITEs dropped as retransmissions that arrived after
	// their transaction was ended at the ACK of its 2xx: a live call's initial INVITE (same
	// Call-ID, From tag and CSeq, no To tag) or an acknowledged re-INVITE (same CSeq).
	InviteRetransmissions uint64
	// OverloadInvites and OverloadOptions count the INVITEs answered 503 by overload control
	// (past max-cps or max-calls, before any transaction; see admission.go) and the
	// out-of-dialog OPTIONS answered 503 while it refused.
	OverloadInvites, OverloadOptions uint64
	// MWI counts message-waiting indication (zeros without Options.Mailboxes).
	MWI MWIStats
	// PublishMWI and PublishBLF count the PUBLISH operations (initial, modify, refresh,
	// remove) of Event: message-summary ([mwi] publish) and Event: dialog (BLF).
	PublishMWI, PublishBLF publish.Stats
	// BLFDropped counts BLF events (a call's dialog state change) dropped because the
	// publisher's queue ([presence] queue) was full.
	BLFDropped uint64
	// BLFSuspended counts BLF events dropped because their presence target did not answer
	// a PUBLISH and is suspended (docs/sip-service.md).
	BLFSuspended uint64
}

// MWIStats counts message-waiting indication.
type MWIStats struct {
	// Subscriptions is the number of message-summary subscriptions held now.
	Subscriptions int
	// NotifySent and NotifyFailed count the NOTIFYs of subscriptions (in their dialogs)
	// answered 2xx, and those unanswered, refused or not sent (mailbox unreadable).
	NotifySent, NotifyFailed uint64
	// UnsolicitedSent and UnsolicitedFailed count the unsolicited NOTIFYs to a learned
	// location (no subscription), answered 2xx or not.
	UnsolicitedSent, UnsolicitedFailed uint64
}

// counters are the live values behind Stats.
type counters struct {
	untrusted, callsTotal, answered, noACK, options, panics, inviteRetrans atomic.Uint64

	malformed    atomic.Uint64
	malformedLog rateLimit

	mu       sync.Mutex
	rejected map[int]uint64
}

func (c *counters) reject(code int) {
	c.mu.Lock()
	c.rejected[code]++
	c.mu.Unlock()
}

// Stats returns a snapshot of the counters.
func (s *Server) Stats() Stats {
	s.stats.mu.Lock()
	rej := maps.Clone(s.stats.rejected)
	s.stats.mu.Unlock()
	return Stats{
		Untrusted:   s.stats.untrusted.Load(),
		Malformed:   s.stats.malformed.Load(),
		CallsActive: int(s.limit.active.Load()),
		CallsTotal:  s.stats.callsTotal.Load(),
		Answered:    s.stats.answered.Load(),
		NoACK:       s.stats.noACK.Load(),
		Options:     s.stats.options.Load(),
		Rejected:    rej,
		Panics:      s.stats.panics.Load(),

		InviteRetransmissions: s.stats.inviteRetrans.Load(),

		OverloadInvites: s.overloadRefused[refusedInvite].Load(),
		OverloadOptions: s.overloadRefused[refusedOptions].Load(),

		MWI:          s.mwi.stats(),
		PublishMWI:   s.blf.pub.Stats(mwi.Event),
		PublishBLF:   s.blf.pub.Stats(dialoginfo.Event),
		BLFDropped:   s.blf.dropped.Load(),
		BLFSuspended: s.blf.suspended.Load(),
	}
}
