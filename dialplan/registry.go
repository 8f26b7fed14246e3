package dialplan

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/sidecar-voip/sidecar/internal/suggest"
)

// App is one dialplan application, such as Hangup or Playback.
type App struct {
	// Name is the application's name as written in extensions.conf. Lookups ignore case, as
	// in Asterisk.
	Name string
	// MinArgs and MaxArgs bound the number of arguments; MaxArgs -1 means unlimited. Compile
	// checks them, so Run always gets an allowed number.
	MinArgs, MaxArgs int
	// Run performs the application for one call. args are already expanded, one template per
	// argument. It returns what the runner does next; an error ends the call (see Plan.Run).
	Run func(ctx context.Context, c *Call, args []string) (Result, error)
	// SecretArgs lists the (0-based) positions of arguments that hold secrets, such as a
	// voicemail PIN: traces, logs and listings show them as "****".
	SecretArgs []int

	// Check validates the arguments at load time, before any call (Caddy's Validate): Compile
	// calls it for every step, and "sidecar check" reports its error at the step's file:line.
	// args are the split, unexpanded arguments (their count already within MinArgs..MaxArgs);
	// literal[i] reports whether args[i] has no template action, so that its text is exactly
	// what Run will get. Check must reject every literal argument Run would reject, by calling
	// the same parsing function Run uses, and skip the templated ones (they are checked per
	// call). Errors read "App: message". nil means every argument is accepted.
	Check func(args []string, literal []bool) error

	// split replaces the comma split of the raw argument text (Set, GotoIf, Log); nil means
	// split at top-level commas.
	split func(raw string) ([]string, error)
	// checkPlan validates jump targets against the whole plan (Goto, GotoIf), after every
	// context is compiled; at is the step's extension.
	checkPlan func(p *Plan, at *extension, args []string, literal []bool) error
}

// ErrUnknownApp reports an application name the registry does not know.
var ErrUnknownApp = errors.New("unknown app")

// ErrDuplicateApp reports a second registration of an application name.
var ErrDuplicateApp = errors.New("app already registered")

var appName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*$`)

// Registry maps application names to applications. Register every application before the
// first Compile; a Registry is safe for concurrent use.
type Registry struct {
	mu   sync.RWMutex
	apps map[string]*App
}

// NewRegistry returns an empty registry. Call RegisterSignalling (and the media and
// voicemail packages' registration functions) to fill it.
func NewRegistry() *Registry { return &Registry{apps: make(map[string]*App)} }

// Register adds an application. It fails on an invalid name, a nil Run, bad argument bounds,
// or a name already registered (ignoring case).
func (r *Registry) Register(a App) error {
	switch {
	case !appName.MatchString(a.Name):
		return fmt.Errorf("register app: invalid name %q", a.Name)
	case a.Run == nil:
		return fmt.Errorf("register app %s: nil Run", a.Name)
	case a.MinArgs < 0 || (a.MaxArgs >= 0 && a.MaxArgs < a.MinArgs) || a.MaxArgs < -1:
		return fmt.Errorf("register app %s: bad argument bounds %d..%d", a.Name, a.MinArgs, a.MaxArgs)
	}
	key := strings.ToLower(a.Name)
	r.mu.Lock()
	defer r.mu.Unlock()
	if prev, ok := r.apps[key]; ok {
		return fmt.Errorf("register app %s: %w (as %s)", a.Name, ErrDuplicateApp, prev.Name)
	}
	r.apps[key] = &a
	return nil
}

// Lookup returns the application registered under name (ignoring case).
func (r *Registry) Lookup(name string) (*App, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	a, ok := r.apps[strings.ToLower(name)]
	return a, ok
}

// Names returns the registered application names, sorted.
func (r *Registry) Names() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]string, 0, len(r.apps))
	for _, a := range r.apps {
		out = append(out, a.Name)
	}
	sort.Strings(out)
	return out
}

// unknownApp describes a name the registry does not know, with the closest registered name
// when one is near ("did you mean").
func (r *Registry) unknownApp(name string) error {
	names := r.Names()
	lower := make([]string, len(names))
	for i, n := range names {
		lower[i] = strings.ToLower(n)
	}
	if near := suggest.Closest(strings.ToLower(name), lower, 3); near != "" {
		a, _ := r.Lookup(near)
		return fmt.Errorf("%w %q (did you mean %q?)", ErrUnknownApp, name, a.Name)
	}
	return fmt.Errorf("%w %q", ErrUnknownApp, name)
}

// ResultKind is what the runner does after an application.
type ResultKind int

const (
	// Continue runs the next priority of the current extension.
	Continue ResultKind = iota
	// Jump continues at Result.Target.
	Jump
	// Stop ends the dialplan: the call has been ended (rejected, redirected or hung up).
	Stop
)

// Target is a place in the dialplan. An empty Context or Exten means the call's current one;
// Priority is a number or a label.
type Target struct {
	Context, Exten, Priority string
}

// String formats the target as Asterisk does: context,exten,priority.
func (t Target) String() string { return t.Context + "," + t.Exten + "," + t.Priority }

// Result is what an application asks the runner to do next.
type Result struct {
	Kind   ResultKind
	Target Target // for Jump
}

// Next is the Result that continues with the next priority.
func Next() Result { return Result{Kind: Continue} }

// Ended is the Result that stops the dialplan because the call has ended.
func Ended() Result { return Result{Kind: Stop} }

// GoTo is the Result that continues at t.
func GoTo(t Target) Result { return Result{Kind: Jump, Target: t} }

// argCountError describes an argument count outside an app's bounds.
func (a *App) argCountError(n int) error {
	plural := func(k int) string {
		if k == 1 {
			return "argument"
		}
		return "arguments"
	}
	var want string
	switch {
	case a.MaxArgs == a.MinArgs:
		want = fmt.Sprintf("%d %s", a.MinArgs, plural(a.MinArgs))
	case a.MaxArgs < 0:
		want = fmt.Sprintf("at least %d %s", a.MinArgs, plural(a.MinArgs))
	case a.MinArgs == 0:
		want = fmt.Sprintf("at most %d %s", a.MaxArgs, plural(a.MaxArgs))
	default:
		want = fmt.Sprintf("%d to %d arguments", a.MinArgs, a.MaxArgs)
	}
	return fmt.Errorf("%s: want %s, got %d", a.Name, want, n)
}

// masked returns args with the app's secret arguments replaced by "****" (a copy when any).
func (a *App) masked(args []string) []string {
	if a == nil || len(a.SecretArgs) == 0 {
		return args
	}
	out := append([]string(nil), args...)
	for _, i := range a.SecretArgs {
		if i >= 0 && i < len(out) && out[i] != "" {
			out[i] = "****"
		}
	}
	return out
}

// appErrorf formats an error about one application: "App: message".
func appErrorf(app, format string, args ...any) error {
	return fmt.Errorf("%s: "+format, append([]any{app}, args...)...)
}
