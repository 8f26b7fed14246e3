package identify

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/sidecar-voip/sidecar/internal/sipstatus"
	"github.com/sidecar-voip/sidecar/profile"
	"github.com/sidecar-voip/sidecar/request"
)

// Report is what "sidecar render" shows about identification: the chain, what each
// identifier did, and the outcome. It marshals to JSON as documented by its field tags, and
// String formats it for a terminal.
type Report struct {
	// Chain lists the identifiers in order.
	Chain []string `json:"chain"`
	// Attempts has one entry per identifier of the chain.
	Attempts []ReportAttempt `json:"attempts"`
	// Identifier is the identifier that matched, "" when none did.
	Identifier string `json:"identifier,omitempty"`
	// Caller and Callee are the selected templates ("name;k=v"), "" for none.
	Caller string `json:"caller_template,omitempty"`
	Callee string `json:"callee_template,omitempty"`
	// Status and Reason are the SIP answer when the request does not proceed.
	Status int    `json:"status,omitempty"`
	Reason string `json:"reason,omitempty"`
	// Error is the log line of a rejection or of no match.
	Error string `json:"error,omitempty"`
}

// ReportAttempt is one identifier's part in a Report.
type ReportAttempt struct {
	Identifier string `json:"identifier"`
	// Outcome is "matched", "no match", "rejected" or "not reached".
	Outcome string `json:"outcome"`
	Caller  string `json:"caller_template,omitempty"`
	Callee  string `json:"callee_template,omitempty"`
	Detail  string `json:"detail,omitempty"`
}

// Describe runs the chain over req like Identify and reports what happened; noMatch is the
// [sip] no-match status. The Result and error are Identify's, for building the profiles.
func Describe(ctx context.Context, c *Chain, req *request.Request, noMatch int) (Report, Result, error) {
	attempts, res, err := c.Trace(ctx, req)
	return NewReport(c, attempts, res, err, noMatch), res, err
}

// NewReport builds the Report of a chain's Trace (attempts, res, err); noMatch is the [sip]
// no-match status.
func NewReport(c *Chain, attempts []Attempt, res Result, err error, noMatch int) Report {
	r := Report{Chain: c.Names(), Identifier: res.Identifier}
	if err == nil {
		r.Caller, r.Callee = FormatMatch(res.Caller), FormatMatch(res.Callee)
	} else {
		r.Identifier = ""
		r.Status, r.Reason = sipstatus.Of(Answer(err, noMatch))
		r.Error = err.Error()
	}
	for _, a := range attempts {
		ra := ReportAttempt{Identifier: a.Identifier, Outcome: a.Outcome}
		if a.Outcome == OutcomeMatched {
			ra.Caller, ra.Callee = FormatMatch(a.Result.Caller), FormatMatch(a.Result.Callee)
		}
		if a.Err != nil {
			ra.Detail = a.Err.Error()
		}
		r.Attempts = append(r.Attempts, ra)
	}
	return r
}

// String formats the report, one identifier per line:
//
//	identify: header, ip, anonymous
//	  header     no match
//	  ip         matched: caller trunk
//	  anonymous  not reached
//	result: ip: caller trunk
func (r Report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "identify: %s\n", strings.Join(r.Chain, ", "))
	width := 0
	for _, a := range r.Attempts {
		width = max(width, len(a.Identifier))
	}
	for _, a := range r.Attempts {
		fmt.Fprintf(&b, "  %-*s  %s", width, a.Identifier, a.Outcome)
		if a.Outcome == OutcomeMatched {
			b.WriteString(": " + parties(a.Caller, a.Callee))
		}
		if a.Detail != "" {
			b.WriteString(": " + a.Detail)
		}
		b.WriteByte('\n')
	}
	if r.Status != 0 {
		fmt.Fprintf(&b, "result: %d %s\n", r.Status, r.Reason)
	} else {
		fmt.Fprintf(&b, "result: %s: %s\n", r.Identifier, parties(r.Caller, r.Callee))
	}
	return b.String()
}

func parties(caller, callee string) string {
	var p []string
	if caller != "" {
		p = append(p, "caller "+caller)
	}
	if callee != "" {
		p = append(p, "callee "+callee)
	}
	return strings.Join(p, ", ")
}

// FormatMatch formats a Match as a template selection, "name;key=value;..." with keys sorted
// ("" for the zero Match), the syntax of X-Caller-Template.
func FormatMatch(m profile.Match) string {
	if m.Name == "" {
		return ""
	}
	keys := make([]string, 0, len(m.Params))
	for k := range m.Params {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	b.WriteString(m.Name)
	for _, k := range keys {
		b.WriteString(";" + k)
		if v := m.Params[k]; v != "" {
			b.WriteString("=" + v)
		}
	}
	return b.String()
}
