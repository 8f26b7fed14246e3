// Package safetmpl compiles operator-written values (template values, dialplan arguments) as Go
// text/template with sprig's functions, minus those that read the environment or the network.
//
// Compile once per load, Execute per request. Execution output is bounded, and data passed to
// Execute is only ever data: a header value containing "{{" is printed, never parsed.
package safetmpl

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"text/template"
)

// DefaultLimit is the largest expansion, in bytes, Execute allows unless told otherwise.
const DefaultLimit = 4096

// ErrTooLong reports an expansion larger than its limit.
var ErrTooLong = errors.New("expanded value too long")

// ErrPseudoSyntax reports a value written in the seed's ${...} pseudo-syntax.
var ErrPseudoSyntax = errors.New("${...} is not template syntax")

// Value is one compiled value: a literal, or a parsed template with, when the compiler supports
// it, its compiled closures (see compile.go).
type Value struct {
	text string
	tmpl *template.Template
	prog *program
}

// Compile parses text as a template named name (use "file:line" so parse errors point there).
// Text without "{{" is a literal and costs nothing to execute. Parsing uses missingkey=error.
// The value runs on text/template only: CompileFor also compiles it for a data type.
func Compile(name, text string, funcs template.FuncMap) (Value, error) {
	return CompileFor(name, text, funcs, nil)
}

// CompileFor is Compile for data that acc describes: what the compiler supports of the value
// runs as Go closures reading the data through acc, with no reflection and no text/template
// per execution; the rest, and any execution of a compiled value that fails, runs
// text/template, so the output and the errors are text/template's in every case. Data of
// another type than acc's makes acc's readers fail, and so runs text/template too.
func CompileFor(name, text string, funcs template.FuncMap, acc Accessors) (Value, error) {
	if m := pseudo.FindStringSubmatch(text); m != nil {
		return Value{}, fmt.Errorf("%w: write %s instead of ${%s}", ErrPseudoSyntax, Suggest(m[1]), m[1])
	}
	if !strings.Contains(text, "{{") {
		return Value{text: text}, nil
	}
	t, err := template.New(name).Option("missingkey=error").Funcs(funcs).Parse(text)
	if err != nil {
		return Value{}, fmt.Errorf("parse template: %s", trimTemplateErr(err, name))
	}
	return Value{text: text, tmpl: t, prog: compileTree(t, funcs, acc)}, nil
}

// Compiled reports whether the value runs as compiled closures (a literal does not).
func (v Value) Compiled() bool { return v.prog != nil }

// Text returns the source text of the value.
func (v Value) Text() string { return v.text }

// IsLiteral reports whether the value contains no template actions.
func (v Value) IsLiteral() bool { return v.tmpl == nil }

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// Execute expands the value over data. The result may be at most limit bytes (DefaultLimit when
// limit <= 0); a longer one fails with ErrTooLong, a template error is returned as is.
func (v Value) Execute(data any, limit int) (string, error) {
	if limit <= 0 {
		limit = DefaultLimit
	}
	if v.tmpl == nil {
		if len(v.text) > limit {
			return "", fmt.Errorf("%w: more than %d bytes", ErrTooLong, limit)
		}
		return v.text, nil
	}
	if v.prog != nil {
		if out, ok := v.prog.exec(data, limit); ok {
			return out, nil
		}
	}
	return v.Reference(data, limit)
}

// Reference is Execute on text/template only, compiled or not: the reference the compiled
// path is tested against.
func (v Value) Reference(data any, limit int) (string, error) {
	if limit <= 0 {
		limit = DefaultLimit
	}
	if v.tmpl == nil {
		return v.Execute(data, limit)
	}
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	defer bufPool.Put(buf)
	w := limitWriter{buf: buf, limit: limit}
	if err := v.tmpl.Execute(&w, data); err != nil {
		if w.over {
			return "", fmt.Errorf("%w: more than %d bytes", ErrTooLong, limit)
		}
		return "", fmt.Errorf("execute template: %s", trimTemplateErr(err, v.tmpl.Name()))
	}
	return buf.String(), nil
}

type limitWriter struct {
	buf   *bytes.Buffer
	limit int
	over  bool
}

func (w *limitWriter) Write(p []byte) (int, error) {
	if w.buf.Len()+len(p) > w.limit {
		w.over = true
		return 0, ErrTooLong
	}
	return w.buf.Write(p)
}

var pseudo = regexp.MustCompile(`\$\{([^}]*)\}`)

// seedNames maps the seed document's pseudo-variables to the template language.
var seedNames = map[string]string{
	"from-header-uri-username": "{{ .From.User }}",
	"from-header-uri-host":     "{{ .From.Host }}",
	"from-header-display-name": "{{ .From.Display }}",
	"to-header-uri-username":   "{{ .To.User }}",
	"request-uri-username":     "{{ .RURI.User }}",
	"request-uri-host":         "{{ .RURI.Host }}",
	"source-ip":                "{{ .Source.IP }}",
	"source-port":              "{{ .Source.Port }}",
	"transport-protocol":       "{{ .Transport }}",
	"call-id":                  "{{ .CallID }}",
	"method":                   "{{ .Method }}",
}

var headerCall = regexp.MustCompile(`^(?i)header\(\s*([^)\s]+)\s*\)$`)

// Suggest returns the template form of a seed pseudo-variable such as "Source-IP" or
// "header(X-MailBoxId)", or a generic hint when the name is unknown.
func Suggest(name string) string {
	name = strings.TrimSpace(name)
	if s, ok := seedNames[strings.ToLower(name)]; ok {
		return s
	}
	if m := headerCall.FindStringSubmatch(name); m != nil {
		return fmt.Sprintf("{{ .Header %q }}", m[1])
	}
	return "a {{ ... }} action (see docs/templates.md)"
}

// trimTemplateErr drops text/template's "template: NAME:" prefix, since callers already say
// where the value is; the line:col text/template adds within a one-line value is kept.
func trimTemplateErr(err error, name string) string {
	s := err.Error()
	s = strings.TrimPrefix(s, "template: ")
	s = strings.TrimPrefix(s, name+":")
	return strings.TrimSpace(s)
}
