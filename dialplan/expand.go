package dialplan

import (
	"fmt"
	"strings"

	"github.com/sidecar-voip/sidecar/internal/safetmpl"
	"github.com/sidecar-voip/sidecar/profile"
	"github.com/sidecar-voip/sidecar/request"
)

// ExpandedStep is one step of an extension with its arguments expanded for one request, as
// Plan.Expand lists it.
type ExpandedStep struct {
	// Step is the step as written, with Args replaced by the expanded arguments (nil when the
	// expansion failed).
	Step
	// Err is why an argument could not be expanded; the step would end the call on it.
	Err error
}

// DryRun is what Plan.Expand expands arguments for: the request and the parties' profiles
// (nil for a party without a template), as Run would see them.
type DryRun struct {
	Request        *request.Request
	Caller, Callee *profile.Profile
	// ShowSecrets leaves PINs and SecretArgs readable; by default they read "****" as in Run's
	// Trace.
	ShowSecrets bool
}

// Expand is Steps with every argument expanded for a call as Run would expand it at that
// step, without running any application ("sidecar render"): the channel variables start as
// the profiles' Vars, and Set steps assign theirs as they go, since Set has no other effect.
// A variable another application would set (TRANSFERSTATUS, digits a caller dialled) expands
// empty. Steps are listed in priority order; jumps are not followed. ok is false when
// nothing matches exten in context.
func (p *Plan) Expand(context, exten string, dry DryRun) (matched string, steps []ExpandedStep, ok bool) {
	st := p.find(context, exten, "1")
	if st == nil {
		return "", nil, false
	}
	req := dry.Request
	if req == nil {
		req = &request.Request{}
	}
	c := &Call{Context: context, Exten: exten, Vars: make(map[string]string)}
	d := &Data{Request: req, call: c, Context: context, Exten: exten}
	d.Caller, d.HasCaller = partyOrEmpty(dry.Caller)
	d.Callee, d.HasCallee = partyOrEmpty(dry.Callee)
	var secrets []string
	if !dry.ShowSecrets {
		secrets = pinValues(d.Caller, d.Callee)
	}
	for _, v := range append(append([]profile.Var(nil), d.Caller.Vars...), d.Callee.Vars...) {
		_ = c.SetVar(v.Name, v.Value) // Run logs and ignores the same failures
	}
	for _, s := range st.ext.steps {
		c.Priority = s.Priority
		es := ExpandedStep{Step: s.Step}
		args := make([]string, len(s.vals))
		for i, v := range s.vals {
			out, err := v.Execute(d, safetmpl.DefaultLimit)
			if err != nil {
				es.Err = fmt.Errorf("argument %d of %s: %w", i+1, s.App, redact(err, secrets))
				args = nil
				break
			}
			args[i] = out
		}
		if args != nil && s.app.Name == "Set" {
			if err := c.SetVar(strings.TrimSpace(args[0]), args[1]); err != nil {
				es.Err = redact(err, secrets)
			}
		}
		if args != nil && !dry.ShowSecrets {
			args = maskSecrets(s.app.masked(args), secrets)
		}
		es.Args = args
		steps = append(steps, es)
	}
	return st.ext.pat.text, steps, true
}
