package dialplan

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"

	"github.com/sidecar-voip/sidecar/internal/lazylog"
	"github.com/sidecar-voip/sidecar/internal/safetmpl"
	"github.com/sidecar-voip/sidecar/internal/sipstatus"
	"github.com/sidecar-voip/sidecar/profile"
	"github.com/sidecar-voip/sidecar/request"
)

// Bounds on one call's run.
const (
	// MaxSteps is the most applications one call runs; past it the call is ended.
	MaxSteps = 10000
	// MaxJumps is the most consecutive jumps (Goto, GotoIf) without another application in
	// between; past it the call is ended.
	MaxJumps = 100
	// MaxVars is the most channel variables one call holds.
	MaxVars = 256
	// MaxIncludeDepth is how deeply include => may nest during a lookup.
	MaxIncludeDepth = 16
)

// Sentinel errors of Run.
var (
	// ErrNoContext reports a call whose context does not exist.
	ErrNoContext = errors.New("no such context")
	// ErrNoExtension reports a call whose extension matches nothing in its context.
	ErrNoExtension = errors.New("no such extension")
	// ErrLoop reports a call that exceeded MaxSteps or MaxJumps.
	ErrLoop = errors.New("dialplan loop")
	// ErrBadTarget reports a jump to a place that does not exist.
	ErrBadTarget = errors.New("no such dialplan target")
)

// Contexts returns the names of the plan's contexts in definition order.
func (p *Plan) Contexts() []string {
	out := make([]string, len(p.order))
	for i, c := range p.order {
		out[i] = c.name
	}
	return out
}

// HasContext reports whether the plan defines the context.
func (p *Plan) HasContext(name string) bool { return p.contexts[name] != nil }

// Steps lists, for "sidecar render", the extension a call to exten in context would start in:
// its pattern as written and its steps with unexpanded arguments. ok is false when nothing
// matches.
func (p *Plan) Steps(context, exten string) (matched string, steps []Step, ok bool) {
	st := p.find(context, exten, "1")
	if st == nil {
		return "", nil, false
	}
	for _, s := range st.ext.steps {
		s2 := s.Step
		s2.Args = s.app.masked(s.Args)
		steps = append(steps, s2)
	}
	return st.ext.pat.text, steps, true
}

// find returns the step for priority (a number or a label) of exten in context, searching the
// context's own extensions in match order and then its includes, depth first, as Asterisk
// does: in each context every matching extension is tried, best match first, and the first
// that has the priority wins (so "_1XX,1" then "_X.,2" runs priority 2 of "_X." for 123);
// only when none of them has it does the search go on in the includes.
func (p *Plan) find(context, exten, priority string) *step {
	cd := p.contexts[context]
	if cd == nil {
		return nil
	}
	n, err := strconv.Atoi(priority)
	if err != nil {
		n = 0
	}
	var visited [MaxIncludeDepth * 4]*contextDef
	seen := visited[:0]
	var walk func(cd *contextDef, depth int) *step
	walk = func(cd *contextDef, depth int) *step {
		for _, v := range seen {
			if v == cd {
				return nil
			}
		}
		seen = append(seen, cd)
		for _, e := range cd.exts {
			if !e.pat.Match(exten) {
				continue
			}
			var st *step
			if n > 0 {
				st = e.byPrio[n]
			} else {
				st = e.byLabel[priority]
			}
			if st != nil {
				return st
			}
		}
		if depth >= MaxIncludeDepth {
			return nil
		}
		for _, inc := range cd.includes {
			if st := walk(inc, depth+1); st != nil {
				return st
			}
		}
		return nil
	}
	return walk(cd, 0)
}

// Run runs the call on ch from priority 1 of exten in context until an application ends it,
// the dialplan ends, or ctx is cancelled (the remote hung up: Run returns ctx's error).
//
// Run never sends the final answer of an unanswered call: it returns an error carrying it
// (a *sipstatus.Error, see sipstatus.Answer) and the SIP service answers. Before the first
// step the caller's, then the callee's, profile Vars become channel variables. A context or
// extension that does not exist is an ErrNoContext or ErrNoExtension answering 404 Not Found
// (BYE when answered). An application that ends an unanswered call on purpose (Hangup(cause),
// Busy, Congestion, Transfer) returns an error wrapping ErrEnded with the answer (the cause's
// status, 302 with its Contact); falling off the end of an extension is the same for cause 16
// (603 Decline); answered, these send BYE and Run returns nil. An application error, a bad
// jump or a loop (MaxSteps, MaxJumps) is logged and returned: it answers the error's own
// status when it carries one, else 500 (BYE when answered). The Trace lists every step run.
//
// Expanded arguments are logged at Debug only. In the Trace, the Debug log and errors, an
// app's SecretArgs and every argument containing the caller's or callee's mailbox PIN (of 3
// digits or more) read "****"; errors name the step without its arguments.
func (p *Plan) Run(ctx context.Context, ch Channel, context, exten string, log *slog.Logger) (Trace, error) {
	// The loop below is where a call waits (in an application) as long as it lasts: it keeps
	// a small frame, the setup and each step's work run in the helpers (run.go's runState),
	// so the call's goroutine keeps a small stack.
	r, err := p.begin(ctx, ch, context, exten, log)
	if err != nil || r == nil {
		return nil, err
	}
	for {
		args, done, err := r.prepare(ctx)
		if done {
			return r.ran(), err
		}
		res, err := r.st.app.Run(ctx, &r.call, args)
		if done, err := r.after(ctx, res, err); done {
			return r.ran(), err
		}
	}
}

// runState is one Run's state between its steps.
type runState struct {
	st      *step
	secrets []string
	trace   Trace // its last step is the one running
	steps   int
	jumps   int

	call Call // the plan is call.plan, the logger call.Log
	data Data

	// In the same allocation: the trace of a short call (Answer, then Echo or Playback) and
	// the logger's call-id attribute.
	traceBuf [2]TraceStep
	logAttr  [1]slog.Attr
}

// ran is the trace Run returns: nil when no step ran, as before the first append.
func (r *runState) ran() Trace {
	if len(r.trace) == 0 {
		return nil
	}
	return r.trace
}

// begin sets up a Run: the call's data, its profile variables, its first step. A nil state
// ends the Run with err.
//
//go:noinline
func (p *Plan) begin(ctx context.Context, ch Channel, context, exten string, log *slog.Logger) (*runState, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	// One allocation for the run's state, its Call and its Data (they live as long).
	r := &runState{}
	r.trace = r.traceBuf[:0]
	req := ch.Request()
	if req != nil {
		r.logAttr[0] = slog.String("call-id", req.CallID)
		log = lazylog.With(log, r.logAttr[:]...)
	} else {
		req = &request.Request{}
	}
	c, d := &r.call, &r.data
	*c = Call{Channel: ch, Context: context, Exten: exten, Priority: 1, plan: p} // Vars made by the first SetVar
	*d = Data{Request: req, call: c}
	d.Caller, d.HasCaller = partyOrEmpty(ch.Caller())
	d.Callee, d.HasCallee = partyOrEmpty(ch.Callee())
	secrets := pinValues(d.Caller, d.Callee)
	// Applications log through c.Log (Log(), warnings quoting arguments): nothing they log
	// may show a PIN.
	log = redactLogger(log, secrets)
	c.Log = log
	for _, v := range append(append([]profile.Var(nil), d.Caller.Vars...), d.Callee.Vars...) {
		if err := c.SetVar(v.Name, v.Value); err != nil {
			log.Warn("dialplan: profile variable ignored", "error", err)
		}
	}
	if p.contexts[context] == nil {
		return nil, p.notFound(ctx, c, fmt.Errorf("run %s,%s: %w %q", context, exten, ErrNoContext, context))
	}
	st := p.find(context, exten, "1")
	if st == nil {
		return nil, p.notFound(ctx, c, fmt.Errorf("run %s,%s: %w %q in context %q", context, exten, ErrNoExtension, exten, context))
	}
	r.st, r.secrets = st, secrets
	return r, nil
}

// prepare checks the bounds and expands the arguments of the next step, r.st. done ends
// the Run with err.
//
//go:noinline
func (r *runState) prepare(ctx context.Context) (args []string, done bool, err error) {
	c, d, st, secrets := &r.call, &r.data, r.st, r.secrets
	p := c.plan
	if err := ctx.Err(); err != nil {
		return nil, true, fmt.Errorf("run %s,%s,%d: %w", c.Context, c.Exten, c.Priority, err)
	}
	if r.steps >= MaxSteps || r.jumps > MaxJumps {
		err := fmt.Errorf("run %s,%s,%d: %w: more than %d steps or %d jumps in a row", c.Context, c.Exten, c.Priority, ErrLoop, MaxSteps, MaxJumps)
		return nil, true, p.fail(ctx, c, err)
	}
	r.steps++
	c.Priority = st.Priority
	d.Context, d.Exten = c.Context, c.Exten
	args = make([]string, len(st.vals))
	for i, v := range st.vals {
		s, err := v.Execute(d, safetmpl.DefaultLimit)
		if err != nil {
			err = fmt.Errorf("%s: argument %d of %s: %w", st.Pos, i+1, st.App, redact(err, secrets))
			return nil, true, p.fail(ctx, c, err)
		}
		args[i] = s
	}
	shown := maskSecrets(st.app.masked(args), secrets)
	r.trace = append(r.trace, TraceStep{Context: c.Context, Exten: c.Exten, Priority: st.Priority, App: st.App, Args: shown})
	if c.Log.Enabled(ctx, slog.LevelDebug) { // the arguments are not built at a higher level
		c.Log.Debug("dialplan step", "context", c.Context, "exten", c.Exten, "priority", st.Priority,
			"app", st.App, "args", shown, "at", st.Pos.String())
	}
	return args, false, nil
}

// after takes the result of the step r.st and finds the next: done ends the Run with err.
//
//go:noinline
func (r *runState) after(ctx context.Context, res Result, err error) (done bool, _ error) {
	c, st, secrets := &r.call, r.st, r.secrets
	p, log, running := c.plan, c.Log, r.trace[len(r.trace)-1]
	if err != nil {
		// The error names the step without its arguments, and an application's own
		// message has the PINs masked: errors are logged at Info and above.
		err = fmt.Errorf("run %s: %w", running.Brief(), redact(err, secrets))
		if ctx.Err() != nil || errors.Is(err, ErrEnded) {
			return true, err
		}
		return true, p.fail(ctx, c, err)
	}
	switch res.Kind {
	case Stop:
		return true, nil
	case Jump:
		r.jumps++
		t := res.Target
		if t.Context == "" {
			t.Context = c.Context
		}
		if t.Exten == "" {
			t.Exten = c.Exten
		}
		next := p.find(t.Context, t.Exten, t.Priority)
		if next == nil {
			err := fmt.Errorf("run %s: %w %s", running.Brief(), ErrBadTarget, maskTarget(t, secrets))
			return true, p.fail(ctx, c, err)
		}
		c.Context, c.Exten, r.st = t.Context, t.Exten, next
	default:
		r.jumps = 0
		next := p.find(c.Context, c.Exten, strconv.Itoa(st.Priority+1))
		if next == nil {
			log.Debug("dialplan: end of extension", "context", c.Context, "exten", c.Exten, "priority", st.Priority)
			if err := hangupCause(ctx, c, CauseNormalClearing); err != nil {
				return true, fmt.Errorf("run %s,%s,%d: end of extension: %w", c.Context, c.Exten, st.Priority, err)
			}
			return true, nil
		}
		r.st = next
	}
	return false, nil
}

// noParty is the profile templates read for a party without a template: the zero Profile,
// one for every call (templates only read a profile; nothing in the package writes one).
var noParty = &profile.Profile{}

func partyOrEmpty(p *profile.Profile) (*profile.Profile, bool) {
	if p == nil {
		return noParty, false
	}
	return p, true
}

// notFound returns err carrying 404 Not Found (BYE when answered).
func (p *Plan) notFound(ctx context.Context, c *Call, err error) error {
	c.Log.Info("dialplan: no route", "error", err)
	if c.Answered() {
		if herr := c.Hangup(ctx); herr != nil {
			c.Log.Warn("dialplan: hangup failed", "error", herr)
		}
		return err
	}
	return sipstatus.New(404, err)
}

// fail logs err and ends the call: when answered with BYE; when unanswered it returns err
// carrying its answer, the error's own status when it has one, else 500.
func (p *Plan) fail(ctx context.Context, c *Call, err error) error {
	c.Log.Error("dialplan: call ended on error", "error", err)
	if ctx.Err() != nil {
		return err
	}
	if c.Answered() {
		if herr := c.Hangup(ctx); herr != nil {
			c.Log.Warn("dialplan: ending call failed", "error", herr)
		}
		return err
	}
	var se *sipstatus.Error
	if !errors.As(err, &se) {
		return sipstatus.New(500, err)
	}
	return err
}
