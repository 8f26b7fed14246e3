package safetmpl

import (
	"fmt"
	"reflect"
	"strconv"
	"sync"
	"text/template"
	"text/template/parse"
)

// The compiled path. A value's text/template parse tree is turned, once at Compile, into Go
// closures that produce the same bytes without text/template's per-execution reflection. The
// compiler supports what operator-written values actually use: text, field chains and method
// calls on the data (through the data type's Accessors, resolved at compile time), variables,
// if/else/with, pipelines, the builtins and/or/not/eq/ne/lt/le/gt/ge/len/print/printf/println,
// and the FuncMap's functions of the common signatures (called through the FuncMap itself, so a
// compiled value runs exactly the bounded implementations Funcs returns). Anything else (range,
// template, index, a field the Accessors do not know, a function of another signature, an
// unusual constant) leaves the whole value to text/template.
//
// At run time, any failure of a compiled value (an error from a function, a missing map key, a
// type text/template would reject, a panic, output over the limit) is not reported: Execute
// runs text/template over the same data instead, so every error message, and which values
// fail, stay exactly text/template's. Data is only read, never parsed.

// Field is the compiler's typed view of one field chain or method call of a data type. Exactly
// one of the readers is set. Each returns ok=false when it cannot read the value the way
// text/template would (a missing map key under missingkey=error, data of another type): the
// value is then run by text/template, which reports the error.
type Field struct {
	// String reads a value of Go type string.
	String func(data any) (s string, ok bool)
	// Named marks String as reading a named string type (such as profile.Role): it prints,
	// compares and tests as a string, but text/template would not pass it to a function's
	// string parameter, so the compiled value falls back there.
	Named bool
	// Bool reads a bool, Int an int.
	Bool func(data any) (b bool, ok bool)
	Int  func(data any) (n int, ok bool)
	// Print reads a value of another type as text/template prints it (fmt.Sprint, so its
	// String method when it has one). Such a field can only be printed by an action of its own.
	Print func(data any) (s string, ok bool)
}

// Accessors describes a data type to the compiler, so that compiled values read fields without
// reflection. Field returns the reader of the chain path (field names from the data, such as
// ["From", "User"]; the last may be a method) called with args (constant strings, for a
// method only), or false when the type has no such field or the compiler should leave it to
// text/template. Field runs at Compile only.
type Accessors interface {
	Field(path []string, args []string) (Field, bool)
}

// vkind is the kind of a compiled value.
type vkind uint8

const (
	kString vkind = iota // s
	kNamed               // s, of a named string type
	kBool                // b
	kInt                 // n
	kAny                 // a: any other type, never nil
)

type val struct {
	k vkind
	b bool
	n int
	s string
	a any
}

// state is one execution of a compiled value.
type state struct {
	data  any
	dot   val // dot when it is not the data
	vars  []val
	buf   []byte
	limit int
}

type (
	evalFn func(s *state) (val, bool)
	stmtFn func(s *state) bool
)

// program is a compiled value.
type program struct {
	run   stmtFn
	nvars int
	// single, when set, is the whole value: one action, whose string result is returned
	// without a copy.
	single evalFn
}

// statePool recycles execution states (their output buffer and variables): a compiled
// expansion allocates only its result string.
var statePool = sync.Pool{New: func() any { return &state{buf: make([]byte, 0, 256)} }}

// maxPooledBuf bounds the output buffer a pooled state keeps.
const maxPooledBuf = 16 << 10

// exec runs p over data. ok is false when anything failed: the caller then runs text/template.
func (p *program) exec(data any, limit int) (out string, ok bool) {
	s := statePool.Get().(*state)
	s.data, s.limit, s.buf = data, limit, s.buf[:0]
	if cap(s.vars) < p.nvars {
		s.vars = make([]val, p.nvars)
	}
	s.vars = s.vars[:p.nvars]
	defer func() {
		if recover() != nil {
			out, ok = "", false
		}
		clear(s.vars)
		s.data, s.dot = nil, val{}
		if cap(s.buf) <= maxPooledBuf {
			statePool.Put(s)
		}
	}()
	if p.single != nil {
		v, ok := p.single(s)
		switch {
		case !ok:
			return "", false
		case v.k == kString || v.k == kNamed:
			return v.s, len(v.s) <= limit // the data's own string: no copy
		case !s.print(v):
			return "", false
		}
		return string(s.buf), true
	}
	if !p.run(s) {
		return "", false
	}
	return string(s.buf), true
}

func (s *state) write(str string) bool {
	if len(s.buf)+len(str) > s.limit {
		return false
	}
	s.buf = append(s.buf, str...)
	return true
}

// scope is the compile-time view of where a node runs.
type scope struct {
	dotData bool     // dot is the data (not a value set by with)
	vars    []string // variables in scope, innermost last; slot = index
}

type compiler struct {
	funcs template.FuncMap
	acc   Accessors
	nvars int
}

// compileTree compiles t's tree, or returns nil when the compiler does not support it.
func compileTree(t *template.Template, funcs template.FuncMap, acc Accessors) *program {
	if acc == nil || t.Tree == nil || t.Tree.Root == nil {
		return nil
	}
	c := &compiler{funcs: funcs, acc: acc}
	sc := &scope{dotData: true, vars: []string{"$"}}
	c.nvars = 1
	nodes := t.Tree.Root.Nodes
	if len(nodes) == 1 {
		if a, ok := nodes[0].(*parse.ActionNode); ok && len(a.Pipe.Decl) == 0 {
			if e, _ := c.pipeAny(a.Pipe, sc); e != nil {
				return &program{single: e, nvars: c.nvars}
			}
		}
	}
	run := c.list(t.Tree.Root, sc)
	if run == nil {
		return nil
	}
	return &program{run: run, nvars: c.nvars}
}

func (c *compiler) list(l *parse.ListNode, sc *scope) stmtFn {
	if l == nil {
		return func(*state) bool { return true }
	}
	depth := len(sc.vars)
	defer func() { sc.vars = sc.vars[:depth] }()
	stmts := make([]stmtFn, 0, len(l.Nodes))
	for _, n := range l.Nodes {
		f := c.node(n, sc)
		if f == nil {
			return nil
		}
		stmts = append(stmts, f)
	}
	switch len(stmts) {
	case 0:
		return func(*state) bool { return true }
	case 1:
		return stmts[0]
	}
	return func(s *state) bool {
		for _, f := range stmts {
			if !f(s) {
				return false
			}
		}
		return true
	}
}

func (c *compiler) node(n parse.Node, sc *scope) stmtFn {
	switch n := n.(type) {
	case *parse.TextNode:
		text := string(n.Text)
		return func(s *state) bool { return s.write(text) }
	case *parse.ActionNode:
		return c.action(n.Pipe, sc)
	case *parse.IfNode:
		return c.branch(&n.BranchNode, sc, false)
	case *parse.WithNode:
		return c.branch(&n.BranchNode, sc, true)
	}
	return nil // range, template, break, continue, comment: text/template's
}

// decl compiles a pipeline's declaration or assignment, returning the slot it sets (-1 when
// none), or ok=false when unsupported.
func (c *compiler) decl(p *parse.PipeNode, sc *scope) (slot int, ok bool) {
	switch len(p.Decl) {
	case 0:
		return -1, true
	case 1:
	default:
		return 0, false
	}
	name := p.Decl[0].Ident[0]
	if len(p.Decl[0].Ident) != 1 || name == "$" {
		return 0, false
	}
	if p.IsAssign {
		for i := len(sc.vars) - 1; i >= 0; i-- {
			if sc.vars[i] == name {
				return i, true
			}
		}
		return 0, false
	}
	sc.vars = append(sc.vars, name)
	if len(sc.vars) > c.nvars {
		c.nvars = len(sc.vars)
	}
	return len(sc.vars) - 1, true
}

func (c *compiler) action(p *parse.PipeNode, sc *scope) stmtFn {
	e, printOnly := c.pipeAny(p, sc)
	if e == nil {
		return nil
	}
	slot, ok := c.decl(p, sc)
	if !ok {
		return nil
	}
	if slot >= 0 {
		if printOnly {
			return nil
		}
		return func(s *state) bool {
			v, ok := e(s)
			s.vars[slot] = v
			return ok
		}
	}
	return func(s *state) bool {
		v, ok := e(s)
		return ok && s.print(v)
	}
}

// print writes v as text/template prints a value.
func (s *state) print(v val) bool {
	switch v.k {
	case kString, kNamed:
		return s.write(v.s)
	case kBool:
		return s.write(strconv.FormatBool(v.b))
	case kInt:
		if len(s.buf)+20 > s.limit {
			return s.write(strconv.Itoa(v.n))
		}
		s.buf = strconv.AppendInt(s.buf, int64(v.n), 10)
		return true
	}
	switch reflect.TypeOf(v.a).Kind() {
	case reflect.Pointer, reflect.Chan, reflect.Func, reflect.Interface, reflect.UnsafePointer:
		return false
	}
	return s.write(fmt.Sprint(v.a))
}

func (c *compiler) branch(b *parse.BranchNode, sc *scope, with bool) stmtFn {
	depth := len(sc.vars)
	e, printOnly := c.pipeAny(b.Pipe, sc)
	if e == nil || printOnly {
		sc.vars = sc.vars[:depth]
		return nil
	}
	slot, ok := c.decl(b.Pipe, sc)
	if !ok {
		sc.vars = sc.vars[:depth]
		return nil
	}
	var then stmtFn
	if with {
		inner := &scope{dotData: false, vars: sc.vars}
		then = c.list(b.List, inner)
		sc.vars = inner.vars[:len(sc.vars)]
	} else {
		then = c.list(b.List, sc)
	}
	els := c.list(b.ElseList, sc)
	sc.vars = sc.vars[:depth]
	if then == nil || els == nil {
		return nil
	}
	return func(s *state) bool {
		v, ok := e(s)
		if !ok {
			return false
		}
		if slot >= 0 {
			s.vars[slot] = v
		}
		t, ok := truth(v)
		if !ok {
			return false
		}
		if !t {
			return els(s)
		}
		if !with {
			return then(s)
		}
		saved := s.dot
		s.dot = v
		ok = then(s)
		s.dot = saved
		return ok
	}
}

// truth is text/template's isTrue.
func truth(v val) (bool, bool) {
	switch v.k {
	case kString, kNamed:
		return v.s != "", true
	case kBool:
		return v.b, true
	case kInt:
		return v.n != 0, true
	}
	rv := reflect.ValueOf(v.a)
	switch rv.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return rv.Len() > 0, true
	case reflect.Struct:
		return true, true
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return rv.Int() != 0, true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return rv.Uint() != 0, true
	case reflect.Float32, reflect.Float64:
		return rv.Float() != 0, true
	}
	return false, false
}

// pipeAny compiles a pipeline's commands (not its declaration). printOnly reports an
// expression that may only be printed, whose evalFn returns a string.
func (c *compiler) pipeAny(p *parse.PipeNode, sc *scope) (e evalFn, printOnly bool) {
	if p == nil || len(p.Cmds) == 0 {
		return nil, false
	}
	if len(p.Cmds) == 1 && len(p.Cmds[0].Args) == 1 {
		if f, ok := p.Cmds[0].Args[0].(*parse.FieldNode); ok && sc.dotData {
			if fd, ok := c.acc.Field(f.Ident, nil); ok && fd.Print != nil {
				rd := fd.Print
				return func(s *state) (val, bool) {
					str, ok := rd(s.data)
					return val{k: kString, s: str}, ok
				}, true
			}
		}
	}
	var prev evalFn
	for _, cmd := range p.Cmds {
		prev = c.command(cmd, prev, sc)
		if prev == nil {
			return nil, false
		}
	}
	return prev, false
}

// command compiles one command; final is the previous command's value (nil for the first).
func (c *compiler) command(cmd *parse.CommandNode, final evalFn, sc *scope) evalFn {
	first := cmd.Args[0]
	rest := cmd.Args[1:]
	switch n := first.(type) {
	case *parse.IdentifierNode:
		args := make([]evalFn, 0, len(rest)+1)
		for _, a := range rest {
			f := c.arg(a, sc)
			if f == nil {
				return nil
			}
			args = append(args, f)
		}
		if final != nil {
			args = append(args, final)
		}
		return c.call(n.Ident, args, final != nil)
	case *parse.FieldNode:
		if !sc.dotData {
			return nil
		}
		return c.field(n.Ident, rest, final)
	case *parse.VariableNode:
		if len(n.Ident) > 1 && n.Ident[0] == "$" && c.rootData(sc) {
			return c.field(n.Ident[1:], rest, final)
		}
	}
	if len(rest) > 0 || final != nil {
		return nil
	}
	return c.arg(first, sc)
}

// rootData reports whether $ is the data: always, since $ is never reassigned by a compiled
// value (an assignment to $ is left to text/template).
func (c *compiler) rootData(sc *scope) bool {
	for i := len(sc.vars) - 1; i > 0; i-- {
		if sc.vars[i] == "$" {
			return false
		}
	}
	return true
}

// field compiles a field chain or method call on the data with constant string arguments.
func (c *compiler) field(path []string, rest []parse.Node, final evalFn) evalFn {
	if final != nil {
		return nil
	}
	var args []string
	for _, a := range rest {
		str, ok := a.(*parse.StringNode)
		if !ok {
			return nil
		}
		args = append(args, str.Text)
	}
	fd, ok := c.acc.Field(path, args)
	if !ok {
		return nil
	}
	return fieldEval(fd)
}

func fieldEval(fd Field) evalFn {
	switch {
	case fd.String != nil:
		rd, k := fd.String, kString
		if fd.Named {
			k = kNamed
		}
		return func(s *state) (val, bool) {
			str, ok := rd(s.data)
			return val{k: k, s: str}, ok
		}
	case fd.Bool != nil:
		rd := fd.Bool
		return func(s *state) (val, bool) {
			b, ok := rd(s.data)
			return val{k: kBool, b: b}, ok
		}
	case fd.Int != nil:
		rd := fd.Int
		return func(s *state) (val, bool) {
			n, ok := rd(s.data)
			return val{k: kInt, n: n}, ok
		}
	}
	return nil // Print-only: not usable as an operand
}

// arg compiles an operand.
func (c *compiler) arg(n parse.Node, sc *scope) evalFn {
	switch n := n.(type) {
	case *parse.StringNode:
		v := val{k: kString, s: n.Text}
		return func(*state) (val, bool) { return v, true }
	case *parse.BoolNode:
		v := val{k: kBool, b: n.True}
		return func(*state) (val, bool) { return v, true }
	case *parse.NumberNode:
		if !n.IsInt || n.Text != strconv.FormatInt(n.Int64, 10) || int64(int(n.Int64)) != n.Int64 {
			return nil
		}
		v := val{k: kInt, n: int(n.Int64)}
		return func(*state) (val, bool) { return v, true }
	case *parse.DotNode:
		if sc.dotData {
			return nil
		}
		return func(s *state) (val, bool) { return s.dot, true }
	case *parse.FieldNode:
		if !sc.dotData {
			return nil
		}
		return c.field(n.Ident, nil, nil)
	case *parse.VariableNode:
		if n.Ident[0] == "$" {
			if len(n.Ident) > 1 && c.rootData(sc) {
				return c.field(n.Ident[1:], nil, nil)
			}
			return nil // $ itself is the data
		}
		if len(n.Ident) != 1 {
			return nil
		}
		for i := len(sc.vars) - 1; i >= 0; i-- {
			if sc.vars[i] == n.Ident[0] {
				slot := i
				return func(s *state) (val, bool) { return s.vars[slot], true }
			}
		}
		return nil
	case *parse.PipeNode:
		if len(n.Decl) > 0 {
			return nil
		}
		e, printOnly := c.pipeAny(n, sc)
		if printOnly {
			return nil
		}
		return e
	}
	return nil // nil, chains, identifiers as operands, floats...
}
