package safetmpl

import (
	"fmt"
	"reflect"
)

// Function calls of compiled values. A FuncMap function is called through the FuncMap's own
// value (the bounded implementations of Funcs), by a typed adapter chosen at compile time from
// the function's signature; the builtins are re-implemented here with text/template's
// semantics for the kinds the compiler handles (string, int, bool), failing (so that
// text/template runs the value) on anything else.

func asInt(v val) (int, bool)   { return v.n, v.k == kInt }
func asBool(v val) (bool, bool) { return v.b, v.k == kBool }

// boxed is v as a function's interface{} parameter receives it.
func boxed(v val) (any, bool) {
	switch v.k {
	case kString:
		return v.s, true
	case kBool:
		return v.b, true
	case kInt:
		return v.n, true
	case kAny:
		return v.a, true
	}
	return nil, false // a named type: text/template would pass its own type
}

// fromAny is a function's interface{} result as text/template's pipeline sees it (unwrapped);
// nil fails.
func fromAny(x any) (val, bool) {
	switch x := x.(type) {
	case nil:
		return val{}, false
	case string:
		return val{k: kString, s: x}, true
	case bool:
		return val{k: kBool, b: x}, true
	case int:
		return val{k: kInt, n: x}, true
	}
	return val{k: kAny, a: x}, true
}

func str(s string) (val, bool) { return val{k: kString, s: s}, true }

// evalAll evaluates args in order.
func evalAll(s *state, args []evalFn, dst []val) ([]val, bool) {
	for _, a := range args {
		v, ok := a(s)
		if !ok {
			return nil, false
		}
		dst = append(dst, v)
	}
	return dst, true
}

// boxAll evaluates args as interface{} values.
func boxAll(s *state, args []evalFn) ([]any, bool) {
	out := make([]any, len(args))
	for i, a := range args {
		v, ok := a(s)
		if !ok {
			return nil, false
		}
		if out[i], ok = boxed(v); !ok {
			return nil, false
		}
	}
	return out, true
}

// call compiles a call of the function name with args (the piped value last when piped), or
// returns nil.
func (c *compiler) call(name string, args []evalFn, piped bool) evalFn {
	if f, ok := c.funcs[name]; ok {
		return funcCall(f, args)
	}
	n := len(args)
	switch name {
	case "and", "or":
		if n == 0 {
			return nil
		}
		return andOr(name == "and", args, piped)
	case "not":
		if n != 1 {
			return nil
		}
		a := args[0]
		return func(s *state) (val, bool) {
			v, ok := a(s)
			if !ok {
				return val{}, false
			}
			t, ok := truth(v)
			return val{k: kBool, b: !t}, ok
		}
	case "eq":
		if n < 2 {
			return nil
		}
		return func(s *state) (val, bool) {
			var buf [4]val
			vs, ok := evalAll(s, args, buf[:0])
			if !ok {
				return val{}, false
			}
			for _, v := range vs[1:] {
				eq, ok := equal(vs[0], v)
				if !ok {
					return val{}, false
				}
				if eq {
					return val{k: kBool, b: true}, true
				}
			}
			return val{k: kBool}, true
		}
	case "ne":
		if n != 2 {
			return nil
		}
		return binary(args, func(a, b val) (bool, bool) {
			eq, ok := equal(a, b)
			return !eq, ok
		})
	case "lt", "le", "gt", "ge":
		if n != 2 {
			return nil
		}
		return binary(args, func(a, b val) (bool, bool) {
			less, ok := lessThan(a, b)
			if !ok {
				return false, false
			}
			eq, _ := equal(a, b)
			switch name {
			case "lt":
				return less, true
			case "le":
				return less || eq, true
			case "gt":
				return !less && !eq, true
			}
			return !less, true
		})
	case "len":
		if n != 1 {
			return nil
		}
		a := args[0]
		return func(s *state) (val, bool) {
			v, ok := a(s)
			switch {
			case !ok:
				return val{}, false
			case v.k == kString || v.k == kNamed:
				return val{k: kInt, n: len(v.s)}, true
			case v.k != kAny:
				return val{}, false
			}
			rv := reflect.ValueOf(v.a)
			switch rv.Kind() {
			case reflect.Array, reflect.Chan, reflect.Map, reflect.Slice, reflect.String:
				return val{k: kInt, n: rv.Len()}, true
			}
			return val{}, false
		}
	case "print", "println":
		sprint := fmt.Sprint
		if name == "println" {
			sprint = fmt.Sprintln
		}
		return func(s *state) (val, bool) {
			xs, ok := boxAll(s, args)
			if !ok {
				return val{}, false
			}
			return str(sprint(xs...))
		}
	case "printf":
		if n == 0 {
			return nil
		}
		return func(s *state) (val, bool) {
			f, ok := args[0](s)
			if !ok || f.k != kString {
				return val{}, false
			}
			xs, ok := boxAll(s, args[1:])
			if !ok {
				return val{}, false
			}
			return str(fmt.Sprintf(f.s, xs...))
		}
	}
	return nil // index, slice, call, html, js, urlquery: text/template's
}

// andOr is text/template's short-circuit and/or: the first falsy (and) or truthy (or)
// argument, else the last. A piped value, evaluated before the call in text/template, is
// here too.
func andOr(and bool, args []evalFn, piped bool) evalFn {
	return func(s *state) (val, bool) {
		last := len(args) - 1
		var pipedVal val
		if piped && last > 0 {
			v, ok := args[last](s)
			if !ok {
				return val{}, false
			}
			pipedVal = v
		}
		for i, a := range args {
			var v val
			if piped && i == last && last > 0 {
				v = pipedVal
			} else {
				var ok bool
				if v, ok = a(s); !ok {
					return val{}, false
				}
			}
			t, ok := truth(v)
			if !ok {
				return val{}, false
			}
			if t != and || i == last {
				return v, true
			}
		}
		return val{}, false
	}
}

func binary(args []evalFn, f func(a, b val) (bool, bool)) evalFn {
	x, y := args[0], args[1]
	return func(s *state) (val, bool) {
		a, ok := x(s)
		if !ok {
			return val{}, false
		}
		b, ok := y(s)
		if !ok {
			return val{}, false
		}
		r, ok := f(a, b)
		return val{k: kBool, b: r}, ok
	}
}

// basic is text/template's basicKind for the kinds compared here: 1 bool, 2 int, 3 string,
// 0 anything else (left to text/template).
func basic(v val) int {
	switch v.k {
	case kBool:
		return 1
	case kInt:
		return 2
	case kString, kNamed:
		return 3
	}
	return 0
}

func equal(a, b val) (eq, ok bool) {
	ka, kb := basic(a), basic(b)
	if ka == 0 || ka != kb {
		return false, false
	}
	switch ka {
	case 1:
		return a.b == b.b, true
	case 2:
		return a.n == b.n, true
	}
	return a.s == b.s, true
}

func lessThan(a, b val) (less, ok bool) {
	ka, kb := basic(a), basic(b)
	if ka != kb {
		return false, false
	}
	switch ka {
	case 2:
		return a.n < b.n, true
	case 3:
		return a.s < b.s, true
	}
	return false, false
}

// funcCall adapts a FuncMap function of a common signature, or returns nil. The argument count
// is checked here, at compile time: a wrong count is text/template's error to report.
func funcCall(f any, args []evalFn) evalFn {
	n := len(args)
	arg := func(s *state, i int) (val, bool) { return args[i](s) }
	switch f := f.(type) {
	case func(string) string:
		if n != 1 {
			return nil
		}
		return func(s *state) (val, bool) {
			a, ok := stringArg(s, args[0])
			if !ok {
				return val{}, false
			}
			return str(f(a))
		}
	case func(string) bool:
		if n != 1 {
			return nil
		}
		return func(s *state) (val, bool) {
			a, ok := stringArg(s, args[0])
			if !ok {
				return val{}, false
			}
			return val{k: kBool, b: f(a)}, true
		}
	case func(string) int:
		if n != 1 {
			return nil
		}
		return func(s *state) (val, bool) {
			a, ok := stringArg(s, args[0])
			if !ok {
				return val{}, false
			}
			return val{k: kInt, n: f(a)}, true
		}
	case func(string) (string, error):
		if n != 1 {
			return nil
		}
		return func(s *state) (val, bool) {
			a, ok := stringArg(s, args[0])
			if !ok {
				return val{}, false
			}
			r, err := f(a)
			return val{k: kString, s: r}, err == nil
		}
	case func(string, string) string:
		if n != 2 {
			return nil
		}
		return func(s *state) (val, bool) {
			a, b, ok := twoStrings(s, args)
			if !ok {
				return val{}, false
			}
			return str(f(a, b))
		}
	case func(string, string) bool:
		if n != 2 {
			return nil
		}
		return func(s *state) (val, bool) {
			a, b, ok := twoStrings(s, args)
			if !ok {
				return val{}, false
			}
			return val{k: kBool, b: f(a, b)}, true
		}
	case func(string, string, string) string:
		if n != 3 {
			return nil
		}
		return func(s *state) (val, bool) {
			a, b, ok := twoStrings(s, args)
			if !ok {
				return val{}, false
			}
			c, ok := stringArg(s, args[2])
			if !ok {
				return val{}, false
			}
			return str(f(a, b, c))
		}
	case func(int, string) string:
		if n != 2 {
			return nil
		}
		return func(s *state) (val, bool) {
			i, a, ok := intString(s, args)
			if !ok {
				return val{}, false
			}
			return str(f(i, a))
		}
	case func(int, string) (string, error):
		if n != 2 {
			return nil
		}
		return func(s *state) (val, bool) {
			i, a, ok := intString(s, args)
			if !ok {
				return val{}, false
			}
			r, err := f(i, a)
			return val{k: kString, s: r}, err == nil
		}
	case func(int, int, string) string:
		if n != 3 {
			return nil
		}
		return func(s *state) (val, bool) {
			v, ok := arg(s, 0)
			i, ok2 := asInt(v)
			if !ok || !ok2 {
				return val{}, false
			}
			j, a, ok := intString(s, args[1:])
			if !ok {
				return val{}, false
			}
			return str(f(i, j, a))
		}
	case func(...any) string:
		return func(s *state) (val, bool) {
			xs, ok := boxAll(s, args)
			if !ok {
				return val{}, false
			}
			return str(f(xs...))
		}
	case func(any) string:
		if n != 1 {
			return nil
		}
		return func(s *state) (val, bool) {
			xs, ok := boxAll(s, args)
			if !ok {
				return val{}, false
			}
			return str(f(xs[0]))
		}
	case func(any) bool:
		if n != 1 {
			return nil
		}
		return func(s *state) (val, bool) {
			v, ok := arg(s, 0)
			if !ok {
				return val{}, false
			}
			x, ok := boxed(v)
			if !ok {
				return val{}, false
			}
			return val{k: kBool, b: f(x)}, true
		}
	case func(any) int:
		if n != 1 {
			return nil
		}
		return func(s *state) (val, bool) {
			xs, ok := boxAll(s, args)
			if !ok {
				return val{}, false
			}
			return val{k: kInt, n: f(xs[0])}, true
		}
	case func(any, ...any) any:
		if n < 1 {
			return nil
		}
		return func(s *state) (val, bool) {
			xs, ok := boxAll(s, args)
			if !ok {
				return val{}, false
			}
			return fromAny(f(xs[0], xs[1:]...))
		}
	case func(...any) any:
		return func(s *state) (val, bool) {
			xs, ok := boxAll(s, args)
			if !ok {
				return val{}, false
			}
			return fromAny(f(xs...))
		}
	case func(any, any, bool) any:
		if n != 3 {
			return nil
		}
		return func(s *state) (val, bool) {
			var buf [3]val
			vs, ok := evalAll(s, args, buf[:0])
			if !ok {
				return val{}, false
			}
			x, ok1 := boxed(vs[0])
			y, ok2 := boxed(vs[1])
			b, ok3 := asBool(vs[2])
			if !ok1 || !ok2 || !ok3 {
				return val{}, false
			}
			return fromAny(f(x, y, b))
		}
	}
	return nil
}

// stringArg evaluates one argument that must be a string.
func stringArg(s *state, arg evalFn) (string, bool) {
	v, ok := arg(s)
	return v.s, ok && v.k == kString
}

func twoStrings(s *state, args []evalFn) (a, b string, ok bool) {
	v, ok := args[0](s)
	if !ok || v.k != kString {
		return "", "", false
	}
	w, ok := args[1](s)
	if !ok || w.k != kString {
		return "", "", false
	}
	return v.s, w.s, true
}

func intString(s *state, args []evalFn) (i int, a string, ok bool) {
	v, ok := args[0](s)
	if !ok || v.k != kInt {
		return 0, "", false
	}
	w, ok := args[1](s)
	if !ok || w.k != kString {
		return 0, "", false
	}
	return v.n, w.s, true
}
