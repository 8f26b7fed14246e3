package profile

import (
	"github.com/sidecar-voip/sidecar/internal/safetmpl"
	"github.com/sidecar-voip/sidecar/request"
)

// DataAccessors is the compiler's typed view of *Data (safetmpl.Accessors): values compiled
// with it (safetmpl.CompileFor) read .From.User, .Header "X-Foo", .Params.user, ... as plain
// Go field reads and method calls, chosen once at compile time, with no reflection per
// expansion. It covers the request's fields (see RequestAccessors) and .Template, .Role,
// .Params.key and .Param "key". Anything else (.Headers, .Fields, .Request, .Params alone) is
// left to text/template by the compiler. Data of another type makes every reader fail, and so
// runs text/template.
var DataAccessors safetmpl.Accessors = dataAccessors{}

type dataAccessors struct{}

func dataParts(x any) (parts, bool) {
	d, ok := x.(*Data)
	if !ok || d == nil {
		return parts{}, false
	}
	return parts{&d.Method, &d.CallID, &d.Transport, &d.RURI, &d.From, &d.To, &d.Source, d.req}, true
}

func asData(x any) (*Data, bool) {
	d, ok := x.(*Data)
	return d, ok && d != nil
}

// Field implements safetmpl.Accessors.
func (dataAccessors) Field(path, args []string) (safetmpl.Field, bool) {
	switch {
	case len(path) == 1 && path[0] == "Param" && len(args) == 1:
		key := args[0]
		return safetmpl.Field{String: func(x any) (string, bool) {
			d, ok := asData(x)
			if !ok {
				return "", false
			}
			return d.Param(key), true
		}}, true
	case len(args) > 0:
	case len(path) == 1 && path[0] == "Template":
		return safetmpl.Field{String: func(x any) (string, bool) {
			d, ok := asData(x)
			if !ok {
				return "", false
			}
			return d.Template, true
		}}, true
	case len(path) == 1 && path[0] == "Role":
		return safetmpl.Field{Named: true, String: func(x any) (string, bool) {
			d, ok := asData(x)
			if !ok {
				return "", false
			}
			return string(d.Role), true
		}}, true
	case len(path) == 2 && path[0] == "Params":
		key := path[1]
		return safetmpl.Field{String: func(x any) (string, bool) {
			d, ok := asData(x)
			if !ok {
				return "", false
			}
			v, ok := d.Params[key] // missing: text/template reports it (missingkey=error)
			return v, ok
		}}, true
	}
	return requestField(path, args, dataParts)
}

// RequestAccessors returns the compiler's typed view (safetmpl.Accessors) of a data type that
// shows a request's fields and methods as its own, by embedding *request.Request as the
// dialplan's data does: req returns the data's request, nil for data of another type. It
// covers .Method, .CallID, .Transport, .RURI/.From/.To and their parts (User, Host, Display,
// Tag, Scheme, Port, URI, URI's parts), .Source and .Source.IP/.Port/.HostPort, and the
// methods Header, HasHeader and .RURI.Param with one constant argument.
func RequestAccessors(req func(data any) *request.Request) safetmpl.Accessors {
	return requestAccessors(func(x any) (parts, bool) {
		r := req(x)
		if r == nil {
			return parts{}, false
		}
		return parts{&r.Method, &r.CallID, &r.Transport, &r.RURI, &r.From, &r.To, &r.Source, r}, true
	})
}

type requestAccessors func(x any) (parts, bool)

func (get requestAccessors) Field(path, args []string) (safetmpl.Field, bool) {
	return requestField(path, args, get)
}

// parts points at the request fields a data value shows (for Data, its copies).
type parts struct {
	method, callID, transport *string
	ruri                      *request.URI
	from, to                  *request.Address
	source                    *request.Endpoint
	req                       *request.Request
}

// requestField resolves a request field or method for a data type whose parts get returns.
func requestField(path, args []string, get func(any) (parts, bool)) (safetmpl.Field, bool) {
	str := func(f func(p *parts) string) (safetmpl.Field, bool) {
		return safetmpl.Field{String: func(x any) (string, bool) {
			p, ok := get(x)
			if !ok {
				return "", false
			}
			return f(&p), true
		}}, true
	}
	printer := func(f func(p *parts) string) (safetmpl.Field, bool) {
		fd, _ := str(f)
		return safetmpl.Field{Print: fd.String}, true
	}
	integer := func(f func(p *parts) int) (safetmpl.Field, bool) {
		return safetmpl.Field{Int: func(x any) (int, bool) {
			p, ok := get(x)
			if !ok {
				return 0, false
			}
			return f(&p), true
		}}, true
	}
	uri := func(name string, u func(p *parts) *request.URI) (safetmpl.Field, bool) {
		switch name {
		case "Scheme":
			return str(func(p *parts) string { return u(p).Scheme })
		case "User":
			return str(func(p *parts) string { return u(p).User })
		case "Host":
			return str(func(p *parts) string { return u(p).Host })
		case "Port":
			return integer(func(p *parts) int { return u(p).Port })
		}
		return safetmpl.Field{}, false
	}
	if len(args) > 0 {
		if len(args) != 1 {
			return safetmpl.Field{}, false
		}
		a := args[0]
		switch {
		case len(path) == 1 && path[0] == "Header":
			return str(func(p *parts) string { return p.req.Header(a) })
		case len(path) == 1 && path[0] == "HasHeader":
			return safetmpl.Field{Bool: func(x any) (bool, bool) {
				p, ok := get(x)
				if !ok {
					return false, false
				}
				return p.req.HasHeader(a), true
			}}, true
		case len(path) == 2 && path[0] == "RURI" && path[1] == "Param":
			return str(func(p *parts) string { return p.ruri.Param(a) })
		}
		return safetmpl.Field{}, false
	}
	switch len(path) {
	case 1:
		switch path[0] {
		case "Method":
			return str(func(p *parts) string { return *p.method })
		case "CallID":
			return str(func(p *parts) string { return *p.callID })
		case "Transport":
			return str(func(p *parts) string { return *p.transport })
		case "RURI":
			return printer(func(p *parts) string { return p.ruri.String() })
		case "Source":
			return printer(func(p *parts) string { return p.source.String() })
		}
	case 2:
		switch path[0] {
		case "RURI":
			return uri(path[1], func(p *parts) *request.URI { return p.ruri })
		case "From", "To":
			addr := func(p *parts) *request.Address { return p.from }
			if path[0] == "To" {
				addr = func(p *parts) *request.Address { return p.to }
			}
			switch path[1] {
			case "Display":
				return str(func(p *parts) string { return addr(p).Display })
			case "Tag":
				return str(func(p *parts) string { return addr(p).Tag })
			case "User":
				return str(func(p *parts) string { return addr(p).User })
			case "Host":
				return str(func(p *parts) string { return addr(p).Host })
			case "URI":
				return printer(func(p *parts) string { return addr(p).URI.String() })
			}
		case "Source":
			switch path[1] {
			case "IP":
				return printer(func(p *parts) string { return p.source.IP.String() })
			case "Port":
				return integer(func(p *parts) int { return p.source.Port })
			case "HostPort":
				return str(func(p *parts) string { return p.source.HostPort() })
			}
		}
	case 3:
		switch {
		case path[0] == "From" && path[1] == "URI":
			return uri(path[2], func(p *parts) *request.URI { return &p.from.URI })
		case path[0] == "To" && path[1] == "URI":
			return uri(path[2], func(p *parts) *request.URI { return &p.to.URI })
		}
	}
	return safetmpl.Field{}, false
}
