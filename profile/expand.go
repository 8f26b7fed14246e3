package profile

import (
	"strings"
	"sync"
	"text/template"
	"text/template/parse"

	"github.com/sidecar-voip/sidecar/internal/safetmpl"
)

// A template's templated values run per request. Executing each as its own text/template
// costs a fixed overhead per value (execution state, writer, result string); the fast path
// runs them all as ONE template instead, the values' texts joined by a separator whose output
// marks where each value ends. The split is never by the output's content (header values could
// forge any content): text/template writes a text node by passing the node's own byte slice to
// Write, so the writer recognises the separator by the address of its bytes, which no data can
// produce.
//
// The separator is {{/* */}}NEWLINE{{/* */}}: the comments keep the newline a text node of its
// own, never merged with a value's text, and no value contains a newline (values are single
// lines), so the separators are exactly the top-level text nodes "\n". The joined template has
// the semantics of the separate ones: each value was parsed on its own first, so each is a
// complete template, and {{- or -}} at a value's edge only meets the empty text beside a
// comment. When the fast path fails in any way (an expansion error, a value over its limit, a
// text/template that writes text nodes differently), Build runs the values one by one, which
// also names a failing value precisely.

const separator = "{{/* */}}\n{{/* */}}"

// expansion collects the output of one joined execution, bounded by limit.
type expansion struct {
	buf     []byte
	marks   []int // output offset at each separator
	markers []*byte
	limit   int
}

// Write appends p, recording a separator instead of writing it, and fails once the output
// would exceed the limit.
func (e *expansion) Write(p []byte) (int, error) {
	if len(p) == 1 && len(e.marks) < len(e.markers) && &p[0] == e.markers[len(e.marks)] {
		e.marks = append(e.marks, len(e.buf))
		return 1, nil
	}
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

// joined is the fast-path template of a tmpl.
type joined struct {
	t       *template.Template
	markers []*byte // the separators' text, in order
	limit   int     // sum of the values' limits
}

// join builds the joined template of ops' templated values, or returns nil when there are
// fewer than two (nothing to gain) or the joined text does not parse as expected (for instance
// two values that {{ define }} the same name): Build then runs the values one by one.
func join(name string, ops []op, funcs template.FuncMap) *joined {
	var b strings.Builder
	n, limit := 0, 0
	for i := range ops {
		if ops[i].val.IsLiteral() {
			continue
		}
		b.WriteString(ops[i].val.Text())
		b.WriteString(separator)
		n++
		limit += ops[i].kind.maxLen()
	}
	if n < 2 {
		return nil
	}
	t, err := template.New(name).Option("missingkey=error").Funcs(funcs).Parse(b.String())
	if err != nil || t.Tree == nil {
		return nil
	}
	j := &joined{t: t, limit: limit}
	for _, node := range t.Tree.Root.Nodes {
		if tn, ok := node.(*parse.TextNode); ok && string(tn.Text) == "\n" {
			j.markers = append(j.markers, &tn.Text[0])
		}
	}
	if len(j.markers) != n {
		return nil
	}
	return j
}

// expandAll runs the joined template and appends each templated value's expansion, in op
// order, to dst. ok is false when anything went wrong: the caller then expands one by one.
func (j *joined) expandAll(t *tmpl, data *Data, dst []string) (_ []string, ok bool) {
	e := expansionPool.Get().(*expansion)
	e.buf, e.marks, e.markers, e.limit = e.buf[:0], e.marks[:0], j.markers, j.limit
	defer func() {
		e.markers = nil
		if cap(e.buf) <= maxPooled {
			expansionPool.Put(e)
		}
	}()
	if err := j.t.Execute(e, data); err != nil || len(e.marks) != len(j.markers) {
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
