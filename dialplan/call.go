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
	// Vars are the channel variables (nil until the first SetVar).
	Vars map[string]string
	// Log is the call's logger (with its call-id).
	Log *slog.Logger

	plan *Plan // the plan running the call (nil for a Call built outside Plan.Run)
}

// HasExtension reports whether exten has a priority 1 in the call's current context (its
// includes searched as a jump would): Asterisk's ast_exists_extension, which VoiceMail uses to
// decide whether '0' and '*' jump to the "o" and "a" extensions.
func (c *Call) HasExtension(exten string) bool {
	return c.plan != nil && c.plan.find(c.Context, exten, "1") != nil
}

// Var returns the channel variable name, "" when unset.
func (c *Call) Var(name string) string { return c.Vars[name] }

// SetVar sets the channel variable name. Invalid names, and new names past MaxVars, are
// refused with an error.
func (c *Call) SetVar(name, value string) error {
	if err := CheckVarName(name); err != nil {
		return fmt.Errorf("set variable: %w", err)
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
	// Args are the expanded arguments, with the app's SecretArgs and every argument that
	// contains the caller's or callee's mailbox PIN replaced by "****".
	Args []string
}

// String formats the step with its (masked) expanded arguments: "context,exten,priority:
// App(args)". Expanded arguments may hold header values and digits a caller dialled: log
// them at Debug only.
func (t TraceStep) String() string {
	return t.where() + ": " + formatCall(t.App, t.Args)
}

// Brief formats the step without arguments: "context,exten,priority: App".
func (t TraceStep) Brief() string { return t.where() + ": " + t.App }

func (t TraceStep) where() string {
	return t.Context + "," + t.Exten + "," + strconv.Itoa(t.Priority)
}

// Trace is the steps one call ran, in order.
type Trace []TraceStep

// Brief lists the steps on one line without their arguments, separated by " | ": the form
// for Info-level logs.
func (t Trace) Brief() string {
	parts := make([]string, len(t))
	for i, s := range t {
		parts[i] = s.Brief()
	}
	return strings.Join(parts, " | ")
}

// LogValue is Brief, for slog: a trace logged as is never carries expanded arguments.
func (t Trace) LogValue() slog.Value { return slog.StringValue(t.Brief()) }

// String lists the steps one per line with their (masked) expanded arguments: the form for
// Debug-level logs and "sidecar" tooling.
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
