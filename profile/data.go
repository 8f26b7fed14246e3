package profile

import (
	"strings"

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

// Data is what a template value sees as "." when it is expanded. It embeds the request, so
// {{ .From.User }}, {{ .RURI.User }}, {{ .Source.IP }}, {{ .Header "X-MailBoxId" }} and every
// other field and method of request.Request work; docs/templates.md has the full table.
//
// Everything in Data is data: a header value containing "{{ ... }}" is printed as is, never
// parsed or executed.
type Data struct {
	*request.Request
	// Template is the name of the template being built ("" while [template-match] runs).
	Template string
	// Params are the parameters that came with the template name
	// ("subscriber;user=alice" gives {"user": "alice"}). {{ .Params.x }} fails when x is
	// absent; {{ .Param "x" }} gives "" instead.
	Params map[string]string
	// Role is "caller" or "callee": one template can serve both parties.
	Role Role
}

// Param returns the template parameter key (lower case), or "" when it is absent.
func (d *Data) Param(key string) string { return d.Params[strings.ToLower(key)] }
