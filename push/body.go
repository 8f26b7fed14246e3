package push

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/sidecar-voip/sidecar/internal/dialect"
)

// Bounds on what one push may carry.
const (
	// MaxBody is the most bytes one pushed template (or one PATCH) may have.
	MaxBody = 64 << 10
	// MaxNameLen is the longest template name (as profile's template names).
	MaxNameLen = 64
	// DefaultMaxTemplates is Options.MaxTemplates when unset.
	DefaultMaxTemplates = 10_000
)

// CheckName reports whether name can be a pushed template: letters, digits and "-_.", not
// starting with "." (it is also a file name under the push directory), at most MaxNameLen
// bytes, and not [template-match].
func CheckName(name string) error {
	if name == "" || len(name) > MaxNameLen || name[0] == '.' || name == "template-match" {
		return fmt.Errorf("%w: template name %q: use 1 to %d letters, digits and -_., not starting with a dot", ErrBadRequest, name, MaxNameLen)
	}
	for _, c := range []byte(name) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return fmt.Errorf("%w: template name %q: use 1 to %d letters, digits and -_., not starting with a dot", ErrBadRequest, name, MaxNameLen)
		}
	}
	return nil
}

// FromText returns the stored text of a push written in the template dialect: the body as
// sent (CRLF turned into LF), with "[name]" added in front when it starts with no section
// header. A header naming another section is refused. The text is compiled later, with the
// files: this only checks what the compiler cannot know (the URL's name).
func FromText(name string, body []byte) (string, error) {
	if err := CheckName(name); err != nil {
		return "", err
	}
	if err := checkBytes(body); err != nil {
		return "", err
	}
	text := strings.ReplaceAll(string(body), "\r\n", "\n")
	for _, line := range strings.Split(text, "\n") {
		t := strings.TrimSpace(line)
		if t == "" || t[0] == ';' {
			continue
		}
		if t[0] != '[' {
			break
		}
		end := strings.IndexByte(t, ']')
		if end < 0 {
			break // the parser reports it with its line
		}
		if got := strings.TrimSpace(t[1:end]); got != name {
			return "", fmt.Errorf("%w: the body defines [%s] but the URL names %s", ErrBadRequest, got, name)
		}
		return ensureNewline(text), nil
	}
	return "[" + name + "]\n" + ensureNewline(text), nil
}

func ensureNewline(s string) string {
	if s != "" && !strings.HasSuffix(s, "\n") {
		return s + "\n"
	}
	return s
}

func checkBytes(b []byte) error {
	switch {
	case len(b) > MaxBody:
		return fmt.Errorf("%w: body larger than %d bytes", ErrBadRequest, MaxBody)
	case !utf8.Valid(b):
		return fmt.Errorf("%w: body is not UTF-8", ErrBadRequest)
	case bytes.IndexByte(b, 0) >= 0:
		return fmt.Errorf("%w: body contains a NUL byte", ErrBadRequest)
	}
	return nil
}

// Spec is a template as JSON: its parents, whether it is abstract, and its fields. A field's
// value is a string or, for a key written several times (set-var, allow), a list of strings.
//
//	{"parents": ["subscriber"], "fields": {"mailbox-id": "1000", "codecs": "g722, pcmu"}}
//
// Fields are written in key order: a template whose meaning depends on the order of
// different keys (allow after disallow) is pushed in the dialect instead.
type Spec struct {
	Parents  []string          `json:"parents,omitempty"`
	Abstract bool              `json:"abstract,omitempty"`
	Fields   map[string]Values `json:"fields"`
}

// Values is one field's values: a JSON string or array of strings.
type Values []string

// UnmarshalJSON reads a string or an array of strings.
func (v *Values) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*v = Values{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return fmt.Errorf("a field is a string or an array of strings")
	}
	*v = many
	return nil
}

// FromJSON returns the stored text of a push written as a JSON Spec.
func FromJSON(name string, body []byte) (string, error) {
	if err := CheckName(name); err != nil {
		return "", err
	}
	if err := checkBytes(body); err != nil {
		return "", err
	}
	var sp Spec
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&sp); err != nil {
		return "", fmt.Errorf("%w: read JSON template: %v", ErrBadRequest, err)
	}
	var lines []kv
	for _, k := range sortedKeys(sp.Fields) {
		for _, v := range sp.Fields[k] {
			lines = append(lines, kv{k, v})
		}
	}
	return render(name, sp.Parents, sp.Abstract, lines)
}

// Patch is a PATCH body: fields to set (replacing every line of that key) or, with null,
// to remove; parents and abstract replace the section's when given.
//
//	{"fields": {"codecs": "pcma", "mailbox-pin": null}}
type Patch struct {
	Parents  *[]string                  `json:"parents,omitempty"`
	Abstract *bool                      `json:"abstract,omitempty"`
	Fields   map[string]json.RawMessage `json:"fields"`
}

// kv is one "key = value" line.
type kv struct{ key, value string }

// apply merges p into the section sec (its own lines; inherited ones stay inherited) and
// returns the new text.
func (p Patch) apply(name string, sec *dialect.Section) (string, error) {
	parents, abstract := sec.Parents, sec.Abstract
	if p.Parents != nil {
		parents = *p.Parents
	}
	if p.Abstract != nil {
		abstract = *p.Abstract
	}
	set := make(map[string]Values, len(p.Fields))
	for k, raw := range p.Fields {
		if string(raw) == "null" {
			set[k] = nil
			continue
		}
		var v Values
		if err := json.Unmarshal(raw, &v); err != nil {
			return "", fmt.Errorf("%w: field %q: %v", ErrBadRequest, k, err)
		}
		set[k] = v
	}
	var lines []kv
	done := map[string]bool{}
	for _, l := range sec.Lines {
		if l.From != "" {
			continue
		}
		v, patched := set[l.Key]
		switch {
		case !patched:
			lines = append(lines, kv{l.Key, l.Value})
		case !done[l.Key]:
			done[l.Key] = true
			for _, x := range v {
				lines = append(lines, kv{l.Key, x})
			}
		}
	}
	for _, k := range sortedKeys(set) {
		if !done[k] {
			for _, x := range set[k] {
				lines = append(lines, kv{k, x})
			}
		}
	}
	return render(name, parents, abstract, lines)
}

// render writes a section in the dialect.
func render(name string, parents []string, abstract bool, lines []kv) (string, error) {
	var b strings.Builder
	opts := slices.Clone(parents)
	if abstract {
		opts = append([]string{"!"}, opts...)
	}
	b.WriteString("[" + name + "]")
	if len(opts) > 0 {
		for _, p := range parents {
			if p == "" || strings.ContainsAny(p, "()[]+!,\n\r") {
				return "", fmt.Errorf("%w: parent %q is not a template name", ErrBadRequest, p)
			}
		}
		b.WriteString("(" + strings.Join(opts, ",") + ")")
	}
	b.WriteString("\n")
	for _, l := range lines {
		if l.key == "" || strings.ContainsAny(l.key, "=[];#\n\r") || strings.TrimSpace(l.key) != l.key {
			return "", fmt.Errorf("%w: field name %q", ErrBadRequest, l.key)
		}
		if strings.ContainsAny(l.value, "\n\r") {
			return "", fmt.Errorf("%w: field %s: a value is one line", ErrBadRequest, l.key)
		}
		b.WriteString(l.key + " = " + strings.ReplaceAll(l.value, ";", `\;`) + "\n")
	}
	if b.Len() > MaxBody {
		return "", fmt.Errorf("%w: template larger than %d bytes", ErrBadRequest, MaxBody)
	}
	return b.String(), nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
