package sipsvc

import (
	"cmp"
	"net/netip"
	"slices"
	"time"
)

// CallInfo is one live call as the admin status page shows it. It holds no PIN and no header
// value beyond the Call-ID.
type CallInfo struct {
	CallID string
	Source netip.AddrPort
	Start  time.Time
	// State is the call's phase: offered, early, answered, confirmed, ending or ended.
	State string
	// CallerTemplate and CalleeTemplate name the parties' templates ("" for none); Context is
	// the dialplan context. All three are empty until the call has been routed.
	CallerTemplate string
	CalleeTemplate string
	Context        string
}

// routeInfo is what routing found for a call, published once (call.active) for ActiveCalls.
type routeInfo struct {
	caller, callee, context string
}

// routed publishes the call's templates and dialplan context for ActiveCalls. route calls it
// once the profiles are built.
func (c *call) routed(context string) {
	ri := &routeInfo{context: context}
	if c.caller != nil {
		ri.caller = c.caller.Template
	}
	if c.callee != nil {
		ri.callee = c.callee.Template
	}
	c.active.Store(ri)
}

// ActiveCalls returns a snapshot of the calls in the dialog registry, oldest first (then by
// Call-ID). It takes the registry's lock and each call's state lock briefly, one at a time.
func (s *Server) ActiveCalls() []CallInfo {
	s.dialogs.mu.Lock()
	calls := make([]*call, 0, len(s.dialogs.m))
	seen := make(map[*call]bool, len(s.dialogs.m))
	for _, c := range s.dialogs.m {
		if !seen[c] {
			seen[c] = true
			calls = append(calls, c)
		}
	}
	s.dialogs.mu.Unlock()

	out := make([]CallInfo, 0, len(calls))
	for _, c := range calls {
		ci := CallInfo{
			CallID: callIDOf(c.sipReq),
			Source: c.src,
			Start:  c.start,
			State:  c.st.snapshot().phase.String(),
		}
		if ri := c.active.Load(); ri != nil {
			ci.CallerTemplate, ci.CalleeTemplate, ci.Context = ri.caller, ri.callee, ri.context
		}
		out = append(out, ci)
	}
	slices.SortFunc(out, func(a, b CallInfo) int {
		return cmp.Or(a.Start.Compare(b.Start), cmp.Compare(a.CallID, b.CallID))
	})
	return out
}
