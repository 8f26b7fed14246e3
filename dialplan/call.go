package dialplan

import (
	"fmt"
	"log/slog"
	"strconv"
	"strings"

	"github.com/sidecar-voip/sidecar/profile"
	"github.com/sidecar-voip/sidecar/request"
)

// Call is one call as applications see it: the Channel plus the dialplan's state.
type Call struct {
	Channel
	// Context, Exten and Priority are where the call is in the dialplan.
	Context, Exten string
	Priority       int
	// Vars are the channel variables.
	Vars map[string]string
	// Log is the call's logger (with its call-id).
	Log *slog.Logger
}

// Var returns the channel variable name, "" when unset.
func (c *Call) Var(name string) string { return c.Vars[name] }

// SetVar sets the channel variable name. Invalid names, and new names past MaxVars, are
// refused with an error.
func (c *Call) SetVar(name, value string) error {
	if !varName.MatchString(name) {
		return fmt.Errorf("set variable: invalid name %q", name)
	}
	if c.Vars == nil {
		c.Vars = make(map[string]string)
	}
	if _, ok := c.Vars[name]; !ok && len(c.Vars) >= MaxVars {
		return fmt.Errorf("set variable %s: more than %d variables", name, MaxVars)
	}
	c.Vars[name] = value
	return nil
}

// Data is what dialplan arguments see: the request's fields and methods ({{ .From.User }},
// {{ .Header "X-Foo" }}), both profiles (never nil: an empty Profile when a party has none),
// where the call is, and its channel variables ({{ .Var "NAME" }}).
type Data struct {
	*request.Request
	Caller, Callee       *profile.Profile
	HasCaller, HasCallee bool
	Context, Exten       string
	call                 *Call
}

// Var returns the channel variable name, "" when unset.
func (d *Data) Var(name string) string { return d.call.Var(name) }

// TraceStep is one application run by Plan.Run.
type TraceStep struct {
	Context, Exten string
	Priority       int
	App            string
	Args           []string // expanded
}

// String formats the step as "context,exten,priority: App(args)".
func (t TraceStep) String() string {
	return t.Context + "," + t.Exten + "," + strconv.Itoa(t.Priority) + ": " + formatCall(t.App, t.Args)
}

// Trace is the steps one call ran, in order.
type Trace []TraceStep

// LogValue writes the trace on one line, steps separated by " | ", for slog.
func (t Trace) LogValue() slog.Value {
	parts := make([]string, len(t))
	for i, s := range t {
		parts[i] = s.String()
	}
	return slog.StringValue(strings.Join(parts, " | "))
}

// String lists the steps one per line.
func (t Trace) String() string {
	var b strings.Builder
	for _, s := range t {
		b.WriteString(s.String())
		b.WriteByte('\n')
	}
	return b.String()
}

// ContextFor picks a call's context: the caller's, else the callee's, else def.
func ContextFor(caller, callee *profile.Profile, def string) string {
	if caller != nil && caller.Context != "" {
		return caller.Context
	}
	if callee != nil && callee.Context != "" {
		return callee.Context
	}
	return def
}
