package routing

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/sidecar-voip/sidecar/dialplan"
	"github.com/sidecar-voip/sidecar/identify"
	"github.com/sidecar-voip/sidecar/internal/sipstatus"
	"github.com/sidecar-voip/sidecar/profile"
	"github.com/sidecar-voip/sidecar/request"
)

// Routing is where one call goes: how it was identified, both parties' profiles, and the
// dialplan context, extension and plan it starts in.
type Routing struct {
	// Request is the request routed.
	Request *request.Request
	// Attempts is what every identifier of the chain did, the ones not reached included:
	// filled by Bundle.Trace (for render); Route, the call path, leaves it nil.
	Attempts []identify.Attempt
	// Match is the identification: the identifier that matched and the caller's and
	// callee's template selections. It is the zero Result when identification failed.
	Match identify.Result
	// Caller and Callee are the parties' profiles; nil for a party without a template.
	Caller, Callee *profile.Profile
	// Context and Exten are where the dialplan starts: dialplan.ContextFor the profiles and
	// [sip] default-context, and the Request-URI's user.
	Context, Exten string
	// Plan is the dialplan to run: the one of the Bundle that routed the call, so a reload
	// never changes a call's plan halfway.
	Plan *dialplan.Plan
	// CallerBuild and CalleeBuild are how long each profile took to build (zero for a
	// party without a template), for the metrics.
	CallerBuild, CalleeBuild time.Duration
}

// Run runs the call's dialplan on ch from priority 1 of Exten in Context (see dialplan.Run).
func (r Routing) Run(ctx context.Context, ch dialplan.Channel, log *slog.Logger) (dialplan.Trace, error) {
	return r.Plan.Run(ctx, ch, r.Context, r.Exten, log)
}

// BuildError is a profile that could not be built for a matched template: the templates,
// not the caller, are at fault, so Route returns it inside a *sipstatus.Error answering 500.
// Its message names the role, the template and what failed, never header values.
type BuildError struct {
	Role     profile.Role
	Template string
	Err      error
}

func (e *BuildError) Error() string {
	return fmt.Sprintf("build %s profile from template %s: %v", e.Role, e.Template, e.Err)
}

// Unwrap returns the cause.
func (e *BuildError) Unwrap() error { return e.Err }

// Route identifies req, builds both profiles and picks the dialplan context and extension.
// On an error it returns what it found so far (the match and profiles built before the
// failure; with Trace, the attempts) with:
//
//   - the identifier chain's error, wrapped as "identify: ...": identify.ErrNoMatch (answered
//     with [sip] no-match, see identify.Answer) or a *sipstatus.Error carrying its SIP answer;
//   - a *BuildError in a *sipstatus.Error answering 500 when a matched template cannot build
//     its profile.
//
// Route does not record the identifiers' attempts (Routing.Attempts is nil): Trace does.
func (b *Bundle) Route(ctx context.Context, req *request.Request) (Routing, error) {
	return b.route(ctx, req, false)
}

// Trace is Route that also records what every identifier of the chain did
// (Routing.Attempts), for "sidecar render".
func (b *Bundle) Trace(ctx context.Context, req *request.Request) (Routing, error) {
	return b.route(ctx, req, true)
}

// route is Route, with the attempts recorded when trace is set.
func (b *Bundle) route(ctx context.Context, req *request.Request, trace bool) (Routing, error) {
	r := Routing{Request: req, Plan: b.plan}
	var res identify.Result
	var err error
	if trace {
		r.Attempts, res, err = b.chain.Trace(ctx, req)
	} else {
		res, err = b.chain.Identify(ctx, req)
	}
	if err != nil {
		return r, fmt.Errorf("identify: %w", err)
	}
	r.Match = res
	t0 := time.Now()
	if r.Caller, err = b.build(res.Caller, profile.RoleCaller, req); err != nil {
		return r, err
	}
	t1 := time.Now()
	if r.Callee, err = b.build(res.Callee, profile.RoleCallee, req); err != nil {
		return r, err
	}
	if r.Caller != nil {
		r.CallerBuild = t1.Sub(t0)
	}
	if r.Callee != nil {
		r.CalleeBuild = time.Since(t1)
	}
	r.Context = dialplan.ContextFor(r.Caller, r.Callee, b.cfg.SIP.DefaultContext)
	r.Exten = req.RURI.User
	return r, nil
}

// build builds one party's profile; a party without a template gets nil.
func (b *Bundle) build(m profile.Match, role profile.Role, req *request.Request) (*profile.Profile, error) {
	if m.Name == "" {
		return nil, nil
	}
	p, err := b.set.Build(m, role, req)
	if err != nil {
		return nil, sipstatus.New(500, &BuildError{Role: role, Template: m.Name, Err: err})
	}
	return p, nil
}

// Router routes calls; *Bundle and *Live are Routers.
type Router interface {
	Route(ctx context.Context, req *request.Request) (Routing, error)
}

// Live holds the current Bundle behind an atomic pointer: a hot reload loads a new Bundle
// aside and Stores it; every Route after the Store uses it, and calls already routed keep
// the one they got. The zero Live holds nothing and must be Stored before Route.
type Live struct {
	cur atomic.Pointer[Bundle]
}

// NewLive returns a Live holding b.
func NewLive(b *Bundle) *Live {
	l := &Live{}
	l.cur.Store(b)
	return l
}

// Current returns the bundle in use.
func (l *Live) Current() *Bundle { return l.cur.Load() }

// Store makes b the bundle in use.
func (l *Live) Store(b *Bundle) { l.cur.Store(b) }

// Route routes req with the current bundle.
func (l *Live) Route(ctx context.Context, req *request.Request) (Routing, error) {
	return l.Current().Route(ctx, req)
}
