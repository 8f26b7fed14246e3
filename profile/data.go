package profile

import (
	"strings"
	"sync"

	"github.com/sidecar-voip/sidecar/request"
)

// Role says which party of a call a profile describes.
type Role string

// The two roles. Templates see them as .Role ("caller" or "callee").
const (
	RoleCaller Role = "caller"
	RoleCallee Role = "callee"
)

func (r Role) index() int {
	if r == RoleCallee {
		return 1
	}
	return 0
}

func (r Role) valid() bool { return r == RoleCaller || r == RoleCallee }

// Data is what a template value sees as "." when it is expanded: the request's fields and
// header methods (as in request.Request: {{ .From.User }}, {{ .RURI.User }}, {{ .Source.IP }},
// {{ .Header "X-MailBoxId" }}, ...) plus the template's name, parameters and role.
// docs/templates.md has the full table.
//
// Values compiled by the profile package read Data through DataAccessors, without
// reflection; text/template, their fallback, looks fields up by name with reflection on every
// execution, which is why the request's fields are copied rather than embedded (a lookup
// through an embedded struct costs several times more than a direct one).
//
// Everything in Data is data: a header value containing "{{ ... }}" is printed as is, never
// parsed or executed.
type Data struct {
	// Method is the SIP method in upper case, for example "INVITE".
	Method string
	// RURI is the Request-URI (the seed's Request-URI-Username is .RURI.User).
	RURI request.URI
	// From and To are the From and To headers (the seed's From-Header-URI-Username is
	// .From.User).
	From, To request.Address
	// CallID is the Call-ID header value.
	CallID string
	// Source is the address the request arrived from (the seed's Source-IP and Source-Port);
	// .Source.HostPort is "ip:port" with IPv6 addresses bracketed.
	Source request.Endpoint
	// Transport is "udp", "tcp" or "tls" (the seed's Transport-Protocol).
	Transport string

	// Template is the name of the template being built ("" while [template-match] runs).
	Template string
	// Params are the parameters that came with the template name
	// ("subscriber;user=alice" gives {"user": "alice"}). {{ .Params.x }} fails when x is
	// absent; {{ .Param "x" }} gives "" instead.
	Params map[string]string
	// Role is "caller" or "callee": one template can serve both parties.
	Role Role

	req *request.Request
}

// NewData returns the template data of one expansion over req: what a value sees as ".".
// Other packages that expand operator-written values over a request (the dialplan) may use
// it so that their values read the same names.
func NewData(req *request.Request, template string, params map[string]string, role Role) *Data {
	return &Data{
		Method: req.Method, RURI: req.RURI, From: req.From, To: req.To, CallID: req.CallID,
		Source: req.Source, Transport: req.Transport,
		Template: template, Params: params, Role: role, req: req,
	}
}

// dataPool holds the Data of finished expansions for the next: the call path expands over
// three of them per INVITE (both selections and each profile built), ~400 bytes each.
var dataPool = sync.Pool{New: func() any { return new(Data) }}

// borrowData is NewData from dataPool; give it back with returnData once the expansions
// over it are done (nothing an expansion returns refers to its data).
func borrowData(req *request.Request, template string, params map[string]string, role Role) *Data {
	d := dataPool.Get().(*Data)
	*d = Data{
		Method: req.Method, RURI: req.RURI, From: req.From, To: req.To, CallID: req.CallID,
		Source: req.Source, Transport: req.Transport,
		Template: template, Params: params, Role: role, req: req,
	}
	return d
}

func returnData(d *Data) {
	*d = Data{} // drop the request and the parameters
	dataPool.Put(d)
}

// Request returns the request the data views.
func (d *Data) Request() *request.Request { return d.req }

// Header returns the first value of the named header (case-insensitive; compact forms match
// their long names), or "" when the request has none.
func (d *Data) Header(name string) string { return d.req.Header(name) }

// Headers returns every value of the named header in the order received, nil when none.
func (d *Data) Headers(name string) []string { return d.req.Headers(name) }

// Fields returns a copy of all header lines in the order received.
func (d *Data) Fields() []request.Field { return d.req.Fields() }

// HasHeader reports whether the request carries the named header at all, even empty.
func (d *Data) HasHeader(name string) bool { return d.req.HasHeader(name) }

// Param returns the template parameter key (case-insensitive), or "" when it is absent.
func (d *Data) Param(key string) string { return d.Params[strings.ToLower(key)] }
