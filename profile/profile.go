// Package profile turns Asterisk-dialect template files into a compiled Set, and builds, per
// request, the typed caller and callee Profiles of a call.
//
// A Set is compiled once per load: every value is parsed as text/template (with sprig) and
// dry-run against request.Sample, so a typo fails at load time with file:line. Per request only
// Execute runs. A Set is immutable and safe for concurrent use; a reload builds a new Set.
package profile

import "time"

// Profile is the typed description of one party of a call (the caller or the callee), built
// from a template over one request. Field docs name the template key that sets each field;
// docs/templates.md is the reference.
type Profile struct {
	// Template is the name of the template the profile was built from.
	Template string `json:"template"`
	// Params are the parameters that came with the template name ("subscriber;user=alice").
	Params map[string]string `json:"params,omitempty"`

	// User is the subscriber's user id. Key: user.
	User string `json:"user,omitempty"`
	// Codecs is the ordered list of allowed codecs (canonical names: "pcmu", "pcma", "g722",
	// "opus", "g729", "gsm"); never empty, default pcmu, pcma. Keys: codecs, allow, disallow
	// (with "all"/"!all"). DTMF events (telephone-event) follow DTMFMode, not this list.
	Codecs []string `json:"codecs"`
	// Context is the dialplan context for calls this party places. Key: context.
	Context string `json:"context,omitempty"`
	// MailboxID is the voicemail box. Key: mailbox-id.
	MailboxID string `json:"mailbox_id,omitempty"`
	// MailboxPIN is the voicemail PIN: a secret, never logged, masked by String and by
	// "sidecar render" unless asked; only RevealSecret returns it. Key: mailbox-pin.
	MailboxPIN Secret `json:"mailbox_pin,omitzero"`
	// MailboxMaxMsg, MailboxMaxDuration and MailboxMinDuration override [voicemail] maxmsg, maxsecs
	// and minsecs for deposits into this party's mailbox; nil: the settings apply. Keys:
	// mailbox-maxmsg (0-9999), mailbox-maxsecs, mailbox-minsecs (a duration up to 1h, or
	// seconds).
	MailboxMaxMsg      *int           `json:"mailbox_maxmsg,omitempty"`
	MailboxMaxDuration *time.Duration `json:"mailbox_maxsecs,omitempty"`
	MailboxMinDuration *time.Duration `json:"mailbox_minsecs,omitempty"`
	// MWI enables message-waiting NOTIFYs for the mailbox. Key: mwi.
	MWI bool `json:"mwi"`
	// Location is where to reach the party (a SIP URI), validated after expansion. Key: location.
	Location string `json:"location,omitempty"`
	// PublishDialogInfo enables dialog-info PUBLISH (BLF) for the party. Key: publish-dialog-info.
	PublishDialogInfo bool `json:"publish_dialog_info"`
	// CallerID is the party's caller id, Asterisk style: "Name" <number>. Key: callerid.
	CallerID CallerID `json:"callerid"`
	// Language selects prompts (for example "en"). Key: language. Default "en".
	Language string `json:"language"`
	// DTMFMode is how the party sends and receives digits. Key: dtmf-mode. Default rfc4733.
	DTMFMode DTMFMode `json:"dtmf_mode"`
	// Vars are dialplan channel variables set before the dialplan runs, in order. Key: set-var
	// (NAME=value), repeatable.
	Vars []Var `json:"vars,omitempty"`
	// Custom holds free-form fields whose keys start with "x-" (prefix kept). Key: x-*.
	Custom map[string]string `json:"custom,omitempty"`
}

// CallerID is a display name and a number.
type CallerID struct {
	Name   string `json:"name,omitempty"`
	Number string `json:"number,omitempty"`
}

// DTMFMode is how digits travel.
type DTMFMode string

// DTMF modes, named as Asterisk's dtmf_mode (rfc2833 is accepted as an alias of rfc4733).
const (
	DTMFRFC4733 DTMFMode = "rfc4733"
	DTMFInfo    DTMFMode = "info"
	DTMFInband  DTMFMode = "inband"
	DTMFAuto    DTMFMode = "auto"
)

// Var is one channel variable.
type Var struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Match is the result of template selection for one party: which template, with which
// parameters. The zero Match (Name == "") means "no template for this party".
type Match struct {
	Name   string
	Params map[string]string
}
