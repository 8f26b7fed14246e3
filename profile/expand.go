package profile

import (
	"maps"
	"strings"
	"sync"
	"text/template"

	"github.com/sidecar-voip/sidecar/internal/safetmpl"
)

// A template's templated values run per request. Executing each as its own text/template
// costs a fixed overhead per value (execution state, writer, result string); the fast path
// runs them all as ONE template instead: the values' texts joined by a call to markFunc, which
// records where each value's output ends. Splitting by those offsets (never by a separator in
// the output, which header values could forge) gives each value's expansion.
//
// The joined template has exactly the semantics of the separate ones: each value parsed on its
// own first, so each is a complete template, and the mark action between two values keeps
// {{- and -}} trimming from crossing them. When the fast path fails in any way (an expansion
// error, a value over its limit), Build runs the values one by one, which names the failing
// value precisely.

// markFunc is the name of the function the joined template calls after each value. Operators
// cannot call it: values are first parsed without it.
const markFunc = "sidecarInternalMark"

// expansion collects the output of one joined execution, bounded by limit.
type expansion struct {
	buf   []byte
	marks []int
	limit int
}

// Write appends p, failing once the output would exceed the limit.
func (e *expansion) Write(p []byte) (int, error) {
	if len(e.buf)+len(p) > e.limit {
		return 0, safetmpl.ErrTooLong
	}
	e.buf = append(e.buf, p...)
	return len(p), nil
}

var expansionPool = sync.Pool{New: func() any {
	return &expansion{buf: make([]byte, 0, 1024), marks: make([]int, 0, 16)}
}}

// maxPooled bounds the buffer kept in the pool after a large expansion.
const maxPooled = 16 << 10

// mark records the end of one value's output.
func mark(d *Data) string {
	if d.exp != nil {
		d.exp.marks = append(d.exp.marks, len(d.exp.buf))
	}
	return ""
}

// markFuncs returns funcs plus markFunc, for the joined templates of one Compile.
func markFuncs(funcs template.FuncMap) template.FuncMap {
	fm := maps.Clone(funcs)
	fm[markFunc] = mark
	return fm
}

// joined is the fast-path template of a tmpl.
type joined struct {
	t     *template.Template
	n     int // number of templated values (marks expected)
	limit int // sum of their limits
}

// join builds the joined template of ops' templated values, or returns nil when there are
// fewer than two (nothing to gain) or the joined text does not parse (for instance two values
// that {{ define }} the same name): Build then runs the values one by one.
func join(name string, ops []op, funcs template.FuncMap) *joined {
	var b strings.Builder
	j := &joined{}
	for i := range ops {
		if ops[i].val.IsLiteral() {
			continue
		}
		b.WriteString(ops[i].val.Text())
		b.WriteString("{{ " + markFunc + " $ }}")
		j.n++
		j.limit += ops[i].kind.maxLen()
	}
	if j.n < 2 {
		return nil
	}
	t, err := template.New(name).Option("missingkey=error").Funcs(funcs).Parse(b.String())
	if err != nil {
		return nil
	}
	j.t = t
	return j
}

// expandAll runs the joined template and appends each templated value's expansion, in op
// order, to dst. ok is false when anything went wrong: the caller then expands one by one.
func (j *joined) expandAll(t *tmpl, data *Data, dst []string) (_ []string, ok bool) {
	e := expansionPool.Get().(*expansion)
	e.buf, e.marks, e.limit = e.buf[:0], e.marks[:0], j.limit
	data.exp = e
	err := j.t.Execute(e, data)
	data.exp = nil
	defer func() {
		if cap(e.buf) <= maxPooled {
			expansionPool.Put(e)
		}
	}()
	if err != nil || len(e.marks) != j.n {
		return dst, false
	}
	all := string(e.buf)
	start, k := 0, 0
	for i := range t.ops {
		o := &t.ops[i]
		if o.val.IsLiteral() {
			continue
		}
		end := e.marks[k]
		if end-start > o.kind.maxLen() {
			return dst, false
		}
		dst = append(dst, all[start:end])
		start = end
		k++
	}
	return dst, true
}
