package cdr

import "time"

// Record is one finished call. Times are UTC in RFC 3339 with nanoseconds.
type Record struct {
	// Start is when the INVITE arrived, Answer when the call was answered (absent when it
	// was not), End when the call ended.
	Start  time.Time `json:"start"`
	Answer time.Time `json:"answer,omitzero"`
	End    time.Time `json:"end"`
	// CallID is the SIP Call-ID of the call.
	CallID string `json:"call_id"`
	// Source is the address the INVITE came from (Kamailio), Transport its transport.
	Source    string `json:"source,omitempty"`
	Transport string `json:"transport,omitempty"`
	// Identifier is the identifier that matched ("" when none did).
	Identifier string `json:"identifier,omitempty"`
	// CallerTemplate and CalleeTemplate name the templates the profiles were built from.
	CallerTemplate string `json:"caller_template,omitempty"`
	CalleeTemplate string `json:"callee_template,omitempty"`
	// Context is the dialplan context, Exten the extension dialled (the Request-URI user).
	Context string `json:"context,omitempty"`
	Exten   string `json:"exten,omitempty"`
	// Apps are the dialplan steps run, without arguments (dialplan.Trace.Brief).
	Apps []string `json:"apps"`
	// Status is the final SIP status of the INVITE (200 for an answered call).
	Status int `json:"status"`
	// EndedBy is who ended the call: caller, sidecar or cancel ("" when not known).
	EndedBy string `json:"ended_by,omitempty"`
	// Codec is the primary negotiated codec ("" without media).
	Codec string `json:"codec,omitempty"`
	// RTP holds the media counters; nil without media.
	RTP *RTP `json:"rtp,omitempty"`
}

// RTP are a call's media counters.
type RTP struct {
	// Sent and Received count RTP packets; Lost is expected minus received (negative
	// with duplicates), as in RFC 3550.
	Sent     uint32 `json:"sent"`
	Received uint32 `json:"received"`
	Lost     int64  `json:"lost"`
	// JitterMS is the interarrival jitter of the peer's audio, in milliseconds.
	JitterMS float64 `json:"jitter_ms"`
}
