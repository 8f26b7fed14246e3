package profile

import (
	"github.com/sidecar-voip/sidecar/internal/safetmpl"
	"github.com/sidecar-voip/sidecar/request"
)

// DataAccessors is the compiler's typed view of *Data (safetmpl.Accessors): values compiled
// with it (safetmpl.CompileFor) read .From.User, .Header "X-Foo", .Params.user, ... as plain
// Go field reads and method calls, resolved once at compile time, with no reflection per
// expansion. It covers the request's string, int and bool fields (.Method, .CallID,
// .Transport, .RURI/.From/.To's parts, .Source.IP/.Port/.HostPort, .RURI, .From.URI, ...),
// the methods Header, HasHeader, Param and .RURI.Param with a constant argument, .Params.key,
// .Template and .Role. Anything else (.Headers, .Fields, .Request, .Params alone, .From
// alone...) is left to text/template by the compiler.
var DataAccessors safetmpl.Accessors = dataAccessors{}

type dataAccessors struct{}

// Field implements safetmpl.Accessors.
func (dataAccessors) Field(path, args []string) (safetmpl.Field, bool) {
	str := func(f func(d *Data) string) (safetmpl.Field, bool) {
		return safetmpl.Field{String: func(x any) (string, bool) {
			d, ok := x.(*Data)
			if !ok || d == nil {
				return "", false
			}
			return f(d), true
		}}, true
	}
	if len(args) > 0 {
		if len(args) != 1 {
			return safetmpl.Field{}, false
		}
		a := args[0]
		switch {
		case len(path) == 1 && path[0] == "Header":
			return str(func(d *Data) string { return d.req.Header(a) })
		case len(path) == 1 && path[0] == "Param":
			return str(func(d *Data) string { return d.Param(a) })
		case len(path) == 1 && path[0] == "HasHeader":
			return safetmpl.Field{Bool: func(x any) (bool, bool) {
				d, ok := x.(*Data)
				if !ok || d == nil {
					return false, false
				}
				return d.req.HasHeader(a), true
			}}, true
		case len(path) == 2 && path[0] == "RURI" && path[1] == "Param":
			return str(func(d *Data) string { return d.RURI.Param(a) })
		}
		return safetmpl.Field{}, false
	}
	switch len(path) {
	case 1:
		switch path[0] {
		case "Method":
			return str(func(d *Data) string { return d.Method })
		case "CallID":
			return str(func(d *Data) string { return d.CallID })
		case "Transport":
			return str(func(d *Data) string { return d.Transport })
		case "Template":
			return str(func(d *Data) string { return d.Template })
		case "Role":
			f, _ := str(func(d *Data) string { return string(d.Role) })
			f.Named = true
			return f, true
		case "RURI":
			return printer(func(d *Data) string { return d.RURI.String() })
		case "Source":
			return printer(func(d *Data) string { return d.Source.String() })
		}
	case 2:
		switch path[0] {
		case "RURI":
			return uriField(path[1], func(d *Data) *request.URI { return &d.RURI })
		case "From", "To":
			get := func(d *Data) *request.Address { return &d.From }
			if path[0] == "To" {
				get = func(d *Data) *request.Address { return &d.To }
			}
			switch path[1] {
			case "Display":
				return str(func(d *Data) string { return get(d).Display })
			case "Tag":
				return str(func(d *Data) string { return get(d).Tag })
			case "User":
				return str(func(d *Data) string { return get(d).User })
			case "Host":
				return str(func(d *Data) string { return get(d).Host })
			case "URI":
				return printer(func(d *Data) string { return get(d).URI.String() })
			}
		case "Source":
			switch path[1] {
			case "IP":
				return printer(func(d *Data) string { return d.Source.IP.String() })
			case "Port":
				return intField(func(d *Data) int { return d.Source.Port })
			case "HostPort":
				return str(func(d *Data) string { return d.Source.HostPort() })
			}
		case "Params":
			key := path[1]
			return safetmpl.Field{String: func(x any) (string, bool) {
				d, ok := x.(*Data)
				if !ok || d == nil {
					return "", false
				}
				v, ok := d.Params[key] // missing: text/template reports it (missingkey=error)
				return v, ok
			}}, true
		}
	case 3:
		if (path[0] == "From" || path[0] == "To") && path[1] == "URI" {
			if path[0] == "From" {
				return uriField(path[2], func(d *Data) *request.URI { return &d.From.URI })
			}
			return uriField(path[2], func(d *Data) *request.URI { return &d.To.URI })
		}
	}
	return safetmpl.Field{}, false
}

func printer(f func(d *Data) string) (safetmpl.Field, bool) {
	return safetmpl.Field{Print: func(x any) (string, bool) {
		d, ok := x.(*Data)
		if !ok || d == nil {
			return "", false
		}
		return f(d), true
	}}, true
}

func intField(f func(d *Data) int) (safetmpl.Field, bool) {
	return safetmpl.Field{Int: func(x any) (int, bool) {
		d, ok := x.(*Data)
		if !ok || d == nil {
			return 0, false
		}
		return f(d), true
	}}, true
}

// uriField reads a part of a URI.
func uriField(name string, get func(d *Data) *request.URI) (safetmpl.Field, bool) {
	str := func(f func(u *request.URI) string) (safetmpl.Field, bool) {
		return safetmpl.Field{String: func(x any) (string, bool) {
			d, ok := x.(*Data)
			if !ok || d == nil {
				return "", false
			}
			return f(get(d)), true
		}}, true
	}
	switch name {
	case "Scheme":
		return str(func(u *request.URI) string { return u.Scheme })
	case "User":
		return str(func(u *request.URI) string { return u.User })
	case "Host":
		return str(func(u *request.URI) string { return u.Host })
	case "Port":
		return intField(func(d *Data) int { return get(d).Port })
	}
	return safetmpl.Field{}, false
}
