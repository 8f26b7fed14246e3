package request

import (
	"sync/atomic"

	"github.com/emiago/sipgo/sip"
)

// sipHeaders is the header view of a Request built by FromSIP. It keeps the parsed sipgo
// header list and turns a header into text only when a template, identifier or the dialplan
// first asks for it: a call reads one or two of a dozen headers, and sipgo's typed headers
// (Via, From, To, Contact, CSeq, ...) re-serialise their fields on every Value call.
//
// The list is only read, never changed, and a value once made is kept, so concurrent readers
// are safe as long as nobody modifies the sipgo request (FromSIP's contract).
type sipHeaders struct {
	on bool // built by FromSIP; a Request from New keeps its Fields instead
	hs []sip.Header
	// made caches hs[i].Value() for the header types whose Value builds a new string, one
	// slot per header, made by the first such read (templates and identifiers read generic
	// headers, X-... and Diversion, whose Value is the stored text: most requests never make
	// it). A slot is nil until first asked for. Two racing readers may both build the slots
	// or a value; one copy is kept.
	made atomic.Pointer[[]atomic.Pointer[string]]
}

// value returns the text of header i, as FromSIP always gave it (sipgo's Value).
func (s *sipHeaders) value(i int) string {
	switch h := s.hs[i].(type) {
	case *sip.ViaHeader, *sip.FromHeader, *sip.ToHeader, *sip.ContactHeader, *sip.CSeqHeader,
		*sip.MaxForwardsHeader, *sip.ContentLengthHeader, *sip.ExpiresHeader, *sip.RouteHeader,
		*sip.RecordRouteHeader, *sip.ReferToHeader, *sip.ReferredByHeader:
		// typed: Value formats the parsed fields into a new string; cached below
	default:
		return h.Value() // generic headers, Call-ID, Content-Type: the stored text itself
	}
	made := s.slots()
	if p := made[i].Load(); p != nil {
		return *p
	}
	v := s.hs[i].Value()
	if made[i].CompareAndSwap(nil, &v) {
		return v
	}
	return *made[i].Load()
}

// slots returns the cache slots, making them on first use.
func (s *sipHeaders) slots() []atomic.Pointer[string] {
	if p := s.made.Load(); p != nil {
		return *p
	}
	m := make([]atomic.Pointer[string], len(s.hs))
	if s.made.CompareAndSwap(nil, &m) {
		return m
	}
	return *s.made.Load()
}

func (s *sipHeaders) header(name string) string {
	for i, h := range s.hs {
		if sameHeader(h.Name(), name) {
			return s.value(i)
		}
	}
	return ""
}

func (s *sipHeaders) all(name string) []string {
	var out []string
	for i, h := range s.hs {
		if sameHeader(h.Name(), name) {
			out = append(out, s.value(i))
		}
	}
	return out
}

func (s *sipHeaders) has(name string) bool {
	for _, h := range s.hs {
		if sameHeader(h.Name(), name) {
			return true
		}
	}
	return false
}

func (s *sipHeaders) fields() []Field {
	if len(s.hs) == 0 {
		return nil
	}
	out := make([]Field, len(s.hs))
	for i, h := range s.hs {
		out[i] = Field{Name: h.Name(), Value: s.value(i)}
	}
	return out
}
