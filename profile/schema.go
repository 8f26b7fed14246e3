package profile

import (
	"fmt"
	"sort"
	"strings"

	"github.com/sidecar-voip/sidecar/internal/suggest"
	"github.com/sidecar-voip/sidecar/media/codecs"
)

// kind is what a template key sets and how its value is parsed.
type kind uint8

const (
	kUser kind = iota
	kCodecs
	kAllow
	kDisallow
	kContext
	kMailboxID
	kMailboxPIN
	kMWI
	kLocation
	kPublishDialogInfo
	kCallerID
	kLanguage
	kDTMFMode
	kMailboxMaxMsg
	kMailboxMaxSecs
	kMailboxMinSecs
	kSetVar
	kCustom
)

// CustomPrefix starts every free-form key; such keys land in Profile.Custom.
const CustomPrefix = "x-"

// schema maps every known template key to its kind.
var schema = map[string]kind{
	"user":                kUser,
	"codecs":              kCodecs,
	"allow":               kAllow,
	"disallow":            kDisallow,
	"context":             kContext,
	"mailbox-id":          kMailboxID,
	"mailbox-pin":         kMailboxPIN,
	"mwi":                 kMWI,
	"location":            kLocation,
	"publish-dialog-info": kPublishDialogInfo,
	"callerid":            kCallerID,
	"language":            kLanguage,
	"dtmf-mode":           kDTMFMode,
	"mailbox-maxmsg":      kMailboxMaxMsg,
	"mailbox-maxsecs":     kMailboxMaxSecs,
	"mailbox-minsecs":     kMailboxMinSecs,
	"set-var":             kSetVar,
}

// maxLen bounds the expansion of a value of the kind, in bytes.
func (k kind) maxLen() int {
	switch k {
	case kLocation, kSetVar, kCustom:
		return 1024
	case kCodecs, kAllow, kDisallow, kCallerID:
		return 256
	default:
		return 128
	}
}

// codec reports whether the kind edits the codec list.
func (k kind) codec() bool { return k == kCodecs || k == kAllow || k == kDisallow }

// lookupKey returns the kind of a template key (matched case-insensitively), or an error with
// a "did you mean" suggestion.
func lookupKey(key string) (kind, string, error) {
	lk := strings.ToLower(key)
	if k, ok := schema[lk]; ok {
		return k, lk, nil
	}
	if name, ok := strings.CutPrefix(lk, CustomPrefix); ok {
		if name == "" {
			return 0, "", fmt.Errorf("custom key %q needs a name after %q", key, CustomPrefix)
		}
		if err := checkToken(name, 64, "-_.", "custom key"); err != nil {
			return 0, "", err
		}
		return kCustom, lk, nil
	}
	msg := fmt.Sprintf("unknown key %q", key)
	if s := suggestKey(lk); s != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", s)
	}
	return 0, "", fmt.Errorf("%s; free-form keys start with %q", msg, CustomPrefix)
}

// keyAliases are keys from Asterisk's pjsip.conf and voicemail.conf that mean one of ours.
var keyAliases = map[string]string{
	"mailbox": "mailbox-id", "mailboxes": "mailbox-id", "pin": "mailbox-pin", "password": "mailbox-pin",
	"dtmfmode": "dtmf-mode", "set_var": "set-var", "setvar": "set-var", "caller-id": "callerid",
	"codec": "codecs", "lang": "language", "dialog-info": "publish-dialog-info",
}

// suggestKey returns the known key closest to an unknown one, or "".
func suggestKey(k string) string {
	k = strings.ReplaceAll(k, "_", "-")
	if _, ok := schema[k]; ok {
		return k
	}
	if a, ok := keyAliases[k]; ok {
		return a
	}
	keys := make([]string, 0, len(schema))
	for s := range schema {
		keys = append(keys, s)
	}
	sort.Strings(keys)
	return suggest.Closest(k, keys, 3)
}

// builder accumulates one profile while a template's lines are applied in order.
type builder struct {
	p      *Profile
	codecs []string // the working codec list, valid when codecSet
	// codecSet is true once a codecs/allow/disallow line ran: the default no longer applies.
	codecSet bool
}

// apply parses value for the key of kind k and sets it on the profile being built.
func (b *builder) apply(k kind, key, value string) error {
	p := b.p
	var err error
	switch k {
	case kUser:
		if err = checkUser(value); err == nil {
			p.User = value
		}
	case kCodecs:
		var c []string
		if c, err = setCodecs(b.codecs, value); err == nil {
			b.codecs, b.codecSet = c, true
		}
	case kAllow, kDisallow:
		var c []string
		if c, err = allowDisallow(b.codecs, value, k == kAllow); err == nil {
			b.codecs, b.codecSet = c, true
		}
	case kContext:
		if err = checkToken(value, 79, "-_.", "value"); err == nil {
			p.Context = value
		}
	case kMailboxID:
		if err = checkToken(value, 80, "-_.@+", "value"); err == nil {
			p.MailboxID = value
		}
	case kMailboxPIN:
		if err = checkPIN(value); err == nil {
			p.MailboxPIN = NewSecret(value)
		}
	case kMWI:
		p.MWI, err = parseBool(value)
	case kLocation:
		if value != "" {
			err = checkSIPURI(value)
		}
		if err == nil {
			p.Location = value
		}
	case kPublishDialogInfo:
		p.PublishDialogInfo, err = parseBool(value)
	case kCallerID:
		p.CallerID, err = parseCallerID(value)
	case kLanguage:
		if value == "" {
			value = defaultLanguage
		}
		if err = checkToken(value, 16, "-_", "value"); err == nil {
			p.Language = value
		}
	case kDTMFMode:
		p.DTMFMode, err = parseDTMF(value)
	case kMailboxMaxMsg:
		p.MailboxMaxMsg, err = parseMaxMsg(value)
	case kMailboxMaxSecs:
		p.MailboxMaxDuration, err = parseMailboxSecs(value)
	case kMailboxMinSecs:
		p.MailboxMinDuration, err = parseMailboxSecs(value)
	case kSetVar:
		var v Var
		if v, err = parseVar(value); err == nil {
			p.Vars = append(p.Vars, v)
		}
	case kCustom:
		if err = checkText(value, 1024, "value"); err == nil {
			switch {
			case value == "":
				delete(p.Custom, key) // empty = unset, as for every other key
			case p.Custom == nil:
				p.Custom = map[string]string{key: value}
			default:
				p.Custom[key] = value
			}
		}
	}
	return err
}

// finish applies the codec default and checks the profile as a whole.
func (b *builder) finish() error {
	if !b.codecSet {
		b.p.Codecs = codecs.Default()
		return nil
	}
	if len(b.codecs) == 0 {
		return fmt.Errorf("no codec left after codecs/allow/disallow")
	}
	b.p.Codecs = b.codecs
	return nil
}

// defaultLanguage is the language of a profile whose templates set none.
const defaultLanguage = "en"
