// Package dialoginfo builds and parses RFC 4235 dialog state documents
// (application/dialog-info+xml), the bodies a busy-lamp field PUBLISH or NOTIFY carries for
// the dialog event package.
//
//	<?xml version="1.0" encoding="UTF-8"?>
//	<dialog-info xmlns="urn:ietf:params:xml:ns:dialog-info" version="0" state="full" entity="sip:1001@example.com">
//	  <dialog id="a84b4c76" call-id="a84b4c76e66710" local-tag="1928301774" direction="initiator">
//	    <state>early</state>
//	    <local><identity>sip:1001@example.com</identity></local>
//	    <remote><identity display="Bob">sip:1002@example.com</identity><target uri="sip:1002@10.0.0.2"/></remote>
//	  </dialog>
//	</dialog-info>
//
// Build writes the document without indentation, to keep PUBLISH bodies small.
package dialoginfo

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"unicode/utf8"
)

// Namespace is the dialog-info XML namespace; ContentType the body's media type; Event the
// event package name.
const (
	Namespace   = "urn:ietf:params:xml:ns:dialog-info"
	ContentType = "application/dialog-info+xml"
	Event       = "dialog"
)

// MaxBody bounds a document Parse accepts.
const MaxBody = 256 << 10

// ErrInvalid reports a document that breaks RFC 4235's schema.
var ErrInvalid = errors.New("invalid dialog-info document")

// Document states.
const (
	Full    = "full"
	Partial = "partial"
)

// Dialog states (RFC 4235 section 3.7.1).
const (
	Trying     = "trying"
	Proceeding = "proceeding"
	Early      = "early"
	Confirmed  = "confirmed"
	Terminated = "terminated"
)

// Directions.
const (
	Initiator = "initiator"
	Recipient = "recipient"
)

// Info is a dialog-info document.
type Info struct {
	XMLName xml.Name `xml:"urn:ietf:params:xml:ns:dialog-info dialog-info"`
	// Version starts at 0 and grows by one with each document about the same entity
	// (Sequence hands them out).
	Version uint32 `xml:"version,attr"`
	// State is Full or Partial.
	State string `xml:"state,attr"`
	// Entity is the URI of the user whose dialogs these are.
	Entity  string   `xml:"entity,attr"`
	Dialogs []Dialog `xml:"dialog"`
}

// Dialog is one dialog's state.
type Dialog struct {
	// ID identifies the dialog within the document (DialogID derives one).
	ID        string `xml:"id,attr"`
	CallID    string `xml:"call-id,attr,omitempty"`
	LocalTag  string `xml:"local-tag,attr,omitempty"`
	RemoteTag string `xml:"remote-tag,attr,omitempty"`
	// Direction is Initiator or Recipient, or empty.
	Direction string `xml:"direction,attr,omitempty"`
	State     State  `xml:"state"`
	// Duration is the seconds since the dialog was confirmed, if given.
	Duration *uint32      `xml:"duration,omitempty"`
	Local    *Participant `xml:"local,omitempty"`
	Remote   *Participant `xml:"remote,omitempty"`
}

// State is a dialog's state with, for a terminated dialog, why it ended.
type State struct {
	// Value is Trying, Proceeding, Early, Confirmed or Terminated.
	Value string `xml:",chardata"`
	// Event is cancelled, rejected, replaced, local-bye, remote-bye, error or timeout.
	Event string `xml:"event,attr,omitempty"`
	// Code is the SIP response code that caused the state, if any.
	Code int `xml:"code,attr,omitempty"`
}

// Participant is the local or remote side of a dialog.
type Participant struct {
	Identity *Identity `xml:"identity,omitempty"`
	Target   *Target   `xml:"target,omitempty"`
}

// Identity is a participant's URI and display name.
type Identity struct {
	Display string `xml:"display,attr,omitempty"`
	URI     string `xml:",chardata"`
}

// Target is a participant's contact URI with optional parameters.
type Target struct {
	URI    string  `xml:"uri,attr"`
	Params []Param `xml:"param"`
}

// Param is a target parameter (RFC 4235: pname/pval).
type Param struct {
	Name  string `xml:"pname,attr"`
	Value string `xml:"pval,attr"`
}

var (
	dialogStates = []string{Trying, Proceeding, Early, Confirmed, Terminated}
	stateEvents  = []string{"cancelled", "rejected", "replaced", "local-bye", "remote-bye", "error", "timeout"}
)

func oneOf(v string, set []string) bool {
	for _, s := range set {
		if v == s {
			return true
		}
	}
	return false
}

// DialogID derives a dialog id from the dialog identifiers: stable for the dialog, free of
// characters that need escaping.
func DialogID(callID, localTag, remoteTag string) string {
	h := sha256.Sum256([]byte(callID + "\x00" + localTag + "\x00" + remoteTag))
	return hex.EncodeToString(h[:8])
}

// Sequence hands out the versions of one entity's documents: 0, 1, 2, ... It is safe for
// concurrent use.
type Sequence struct{ n atomic.Uint32 }

// Next returns the next version.
func (s *Sequence) Next() uint32 { return s.n.Add(1) - 1 }

// Validate checks what the schema requires: the document state and entity, and for each
// dialog an id, a known state, event and direction, and identities and targets that are URIs.
func (in Info) Validate() error {
	if in.XMLName.Local != "" && (in.XMLName.Space != Namespace || in.XMLName.Local != "dialog-info") {
		return fmt.Errorf("%w: root element {%s}%s", ErrInvalid, in.XMLName.Space, in.XMLName.Local)
	}
	if in.State != Full && in.State != Partial {
		return fmt.Errorf("%w: state %q, want full or partial", ErrInvalid, in.State)
	}
	if !isURI(in.Entity) {
		return fmt.Errorf("%w: entity %q is not a URI", ErrInvalid, in.Entity)
	}
	var ids map[string]bool // only for many dialogs; a few are compared pairwise
	for i := range in.Dialogs {
		d := &in.Dialogs[i]
		repeated := false
		if len(in.Dialogs) > 8 {
			if ids == nil {
				ids = make(map[string]bool, len(in.Dialogs))
			}
			repeated = ids[d.ID]
			ids[d.ID] = true
		} else {
			for j := range i {
				repeated = repeated || in.Dialogs[j].ID == d.ID
			}
		}
		if d.ID == "" || repeated {
			return fmt.Errorf("%w: dialog %d: id %q empty or repeated", ErrInvalid, i, d.ID)
		}
		if !oneOf(d.State.Value, dialogStates) {
			return fmt.Errorf("%w: dialog %s: state %q", ErrInvalid, d.ID, d.State.Value)
		}
		if d.State.Event != "" && !oneOf(d.State.Event, stateEvents) {
			return fmt.Errorf("%w: dialog %s: state event %q", ErrInvalid, d.ID, d.State.Event)
		}
		if d.State.Code < 0 || d.State.Code > 699 || (d.State.Code > 0 && d.State.Code < 100) {
			return fmt.Errorf("%w: dialog %s: state code %d", ErrInvalid, d.ID, d.State.Code)
		}
		if d.Direction != "" && d.Direction != Initiator && d.Direction != Recipient {
			return fmt.Errorf("%w: dialog %s: direction %q", ErrInvalid, d.ID, d.Direction)
		}
		for side, p := range [2]*Participant{d.Local, d.Remote} {
			side := [2]string{"local", "remote"}[side]
			if p == nil {
				continue
			}
			if p.Identity != nil && !isURI(p.Identity.URI) {
				return fmt.Errorf("%w: dialog %s: %s identity %q is not a URI", ErrInvalid, d.ID, side, p.Identity.URI)
			}
			if p.Target != nil && !isURI(p.Target.URI) {
				return fmt.Errorf("%w: dialog %s: %s target %q is not a URI", ErrInvalid, d.ID, side, p.Target.URI)
			}
			if p.Target != nil {
				for _, prm := range p.Target.Params {
					if prm.Name == "" {
						return fmt.Errorf("%w: dialog %s: %s target parameter without pname", ErrInvalid, d.ID, side)
					}
				}
			}
		}
	}
	return nil
}

// isURI accepts scheme ":" and a non-empty rest without white space.
func isURI(u string) bool {
	scheme, rest, ok := strings.Cut(u, ":")
	if !ok || scheme == "" || rest == "" || strings.ContainsAny(u, " \t\r\n") {
		return false
	}
	c := scheme[0] | 0x20
	return c >= 'a' && c <= 'z' && strings.Trim(strings.ToLower(scheme), "abcdefghijklmnopqrstuvwxyz0123456789+-.") == ""
}

// Build validates and serialises a document, with the XML declaration. The document is
// written by appending escaped strings (the bytes encoding/xml's Marshal of Info gives, at a
// fraction of its cost: Build runs for every BLF PUBLISH).
func Build(in Info) ([]byte, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	b := make([]byte, 0, 512)
	b = append(b, `<?xml version="1.0" encoding="UTF-8"?>`+"\n"+`<dialog-info xmlns="`+Namespace+`" version="`...)
	b = strconv.AppendUint(b, uint64(in.Version), 10)
	b = append(b, '"')
	b = attr(b, "state", in.State)
	b = attr(b, "entity", in.Entity)
	b = append(b, '>')
	for i := range in.Dialogs {
		d := &in.Dialogs[i]
		b = append(b, "<dialog"...)
		b = attr(b, "id", d.ID)
		b = attrOpt(b, "call-id", d.CallID)
		b = attrOpt(b, "local-tag", d.LocalTag)
		b = attrOpt(b, "remote-tag", d.RemoteTag)
		b = attrOpt(b, "direction", d.Direction)
		b = append(b, "><state"...)
		b = attrOpt(b, "event", d.State.Event)
		if d.State.Code != 0 {
			b = append(b, ` code="`...)
			b = strconv.AppendInt(b, int64(d.State.Code), 10)
			b = append(b, '"')
		}
		b = append(b, '>')
		b = escape(b, d.State.Value)
		b = append(b, "</state>"...)
		if d.Duration != nil {
			b = append(b, "<duration>"...)
			b = strconv.AppendUint(b, uint64(*d.Duration), 10)
			b = append(b, "</duration>"...)
		}
		b = participant(b, "local", d.Local)
		b = participant(b, "remote", d.Remote)
		b = append(b, "</dialog>"...)
	}
	b = append(b, "</dialog-info>\n"...)
	return b, nil
}

// participant appends <local> or <remote> (nothing for nil).
func participant(b []byte, name string, p *Participant) []byte {
	if p == nil {
		return b
	}
	b = append(b, '<')
	b = append(b, name...)
	b = append(b, '>')
	if id := p.Identity; id != nil {
		b = append(b, "<identity"...)
		b = attrOpt(b, "display", id.Display)
		b = append(b, '>')
		b = escape(b, id.URI)
		b = append(b, "</identity>"...)
	}
	if tg := p.Target; tg != nil {
		b = append(b, "<target"...)
		b = attr(b, "uri", tg.URI)
		b = append(b, '>')
		for _, prm := range tg.Params {
			b = append(b, "<param"...)
			b = attr(b, "pname", prm.Name)
			b = attr(b, "pval", prm.Value)
			b = append(b, "></param>"...)
		}
		b = append(b, "</target>"...)
	}
	b = append(b, "</"...)
	b = append(b, name...)
	return append(b, '>')
}

// attr appends ` name="value"`, value escaped.
func attr(b []byte, name, value string) []byte {
	b = append(b, ' ')
	b = append(b, name...)
	b = append(b, `="`...)
	b = escape(b, value)
	return append(b, '"')
}

// attrOpt is attr, nothing for an empty value (omitempty).
func attrOpt(b []byte, name, value string) []byte {
	if value == "" {
		return b
	}
	return attr(b, name, value)
}

// escape appends s escaped as encoding/xml escapes text and attribute values: the five
// markup characters, tab and line ends as character references, and what XML cannot carry
// (invalid UTF-8, characters outside XML's Char production) as U+FFFD.
func escape(b []byte, s string) []byte {
	last := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < utf8.RuneSelf && c != '"' && c != '\'' && c != '&' && c != '<' && c != '>' {
			i++
			continue
		}
		r, width := rune(c), 1
		if c >= utf8.RuneSelf {
			r, width = utf8.DecodeRuneInString(s[i:])
		}
		var esc string
		switch {
		case r == '"':
			esc = "&#34;"
		case r == '\'':
			esc = "&#39;"
		case r == '&':
			esc = "&amp;"
		case r == '<':
			esc = "&lt;"
		case r == '>':
			esc = "&gt;"
		case r == '\t':
			esc = "&#x9;"
		case r == '\n':
			esc = "&#xA;"
		case r == '\r':
			esc = "&#xD;"
		case (r == utf8.RuneError && width == 1) || !xmlChar(r):
			esc = "\uFFFD"
		default:
			i += width
			continue
		}
		b = append(b, s[last:i]...)
		b = append(b, esc...)
		i += width
		last = i
	}
	return append(b, s[last:]...)
}

// xmlChar is XML 1.0's Char production.
func xmlChar(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D ||
		r >= 0x20 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD ||
		r >= 0x10000 && r <= 0x10FFFF
}

// Parse reads and validates a document. Elements of other namespaces (the schema's
// extension points) are ignored.
func Parse(b []byte) (Info, error) {
	if len(b) > MaxBody {
		return Info{}, fmt.Errorf("%w: %d bytes is over %d", ErrInvalid, len(b), MaxBody)
	}
	d := xml.NewDecoder(bytes.NewReader(b))
	var root xml.StartElement
	for {
		tok, err := d.Token()
		if err != nil {
			return Info{}, fmt.Errorf("%w: %w", ErrInvalid, err)
		}
		if se, ok := tok.(xml.StartElement); ok {
			root = se
			break
		}
	}
	if root.Name.Space != Namespace || root.Name.Local != "dialog-info" {
		return Info{}, fmt.Errorf("%w: root element {%s}%s, want {%s}dialog-info", ErrInvalid, root.Name.Space, root.Name.Local, Namespace)
	}
	for _, need := range []string{"version", "state", "entity"} {
		found := false
		for _, a := range root.Attr {
			found = found || (a.Name.Space == "" && a.Name.Local == need)
		}
		if !found {
			return Info{}, fmt.Errorf("%w: dialog-info without %s", ErrInvalid, need)
		}
	}
	var in Info
	if err := d.DecodeElement(&in, &root); err != nil {
		return Info{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	for i := range in.Dialogs {
		dl := &in.Dialogs[i]
		dl.State.Value = strings.TrimSpace(dl.State.Value)
		for _, p := range []*Participant{dl.Local, dl.Remote} {
			if p != nil && p.Identity != nil {
				p.Identity.URI = strings.TrimSpace(p.Identity.URI)
			}
		}
	}
	if err := in.Validate(); err != nil {
		return Info{}, err
	}
	return in, nil
}
