package routing

import (
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/sidecar-voip/sidecar/config"
	"github.com/sidecar-voip/sidecar/internal/dialect"
)

// ErrRefused is the error of a reload that found an error: the running bundle stays.
var ErrRefused = errors.New("reload refused")

// Bounds of what a Reloader keeps for the status page: the failures it remembers and the
// errors it keeps of each (every error is logged, however many).
const (
	defaultRecent    = 16
	maxKeptErrors    = 32
	maxRestartReport = 32
)

// Sources returns what one reload loads: the settings re-read from their file, the template
// directory and the application registry (and anything else Options gains, such as pushed
// templates, so every rebuild includes them). It is called once per reload, under the
// reloader's lock. An error (the settings file does not parse) refuses the reload; each line
// of its message is reported as one error.
type Sources func() (Options, error)

// ReloaderOptions configure a Reloader.
type ReloaderOptions struct {
	// Live holds the running bundle; a successful reload Stores the new one. Required.
	Live *Live
	// Sources is what each reload loads. Required.
	Sources Sources
	// Overlay, when set, changes the Options Sources returns, on every reload until a
	// Rebuild replaces it: the pushed templates the process started with.
	Overlay func(*Options)
	// Apply, when set, is called after a successful swap with the new settings, to apply the
	// ones the bundle does not carry (the SIP service's trust list and limits, the log
	// level). It runs under the reloader's lock, never concurrently with itself.
	Apply func(*config.Config)
	// Log receives one line per error, warning and setting needing a restart; nil discards.
	Log *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Recent is how many refused reloads Stats remembers; 0 means 16.
	Recent int
}

// Result is the outcome of one reload, as POST /reload answers it.
type Result struct {
	// Reason is what asked for the reload: "sighup", "http", "watch", "push", ...
	Reason string `json:"reason"`
	// OK is true when the new bundle was swapped in.
	OK bool `json:"ok"`
	// Errors are the problems that refused the reload, "file:line: message" each.
	Errors []string `json:"errors,omitempty"`
	// Warnings are the load's warnings (a reload with warnings is applied).
	Warnings []string `json:"warnings,omitempty"`
	// Restart lists the settings ("[sip] listen", ...) that changed but apply only after a
	// restart; the running process keeps their old values.
	Restart []string `json:"restart_needed,omitempty"`
	// Source is where the templates came from (the directory, or Embedded).
	Source string `json:"templates,omitempty"`
	// Templates is the number of templates of the bundle in use after the reload.
	Templates int `json:"templates_loaded"`
	// Time is when the reload ended.
	Time time.Time `json:"time"`
}

// Failure is one refused reload, kept for the status page.
type Failure struct {
	Time   time.Time `json:"time"`
	Reason string    `json:"reason"`
	// Errors are its first errors (all of them are logged).
	Errors []string `json:"errors"`
}

// Stats is a snapshot of a Reloader's counters.
type Stats struct {
	// Reloads counts the reloads run, applied or refused (requests coalesced into a reload
	// already running are not counted again: see Coalesced).
	Reloads uint64 `json:"reloads"`
	// Failures counts the reloads refused.
	Failures uint64 `json:"failures"`
	// Coalesced counts the requests answered by a reload that started after they were made.
	Coalesced uint64 `json:"coalesced"`
	// LastError is the first error of the last refused reload; "" when none was refused.
	LastError string `json:"last_error,omitempty"`
	// LastErrorTime and LastSuccessTime are when the last reload was refused and applied;
	// zero when none was.
	LastErrorTime   time.Time `json:"last_error_time"`
	LastSuccessTime time.Time `json:"last_success_time"`
	// Recent are the last refused reloads, oldest first.
	Recent []Failure `json:"recent_failures,omitempty"`
}

// Reloader reloads the settings and the templates into a Live: it loads a new Bundle aside
// and swaps it in only when it has no error, so a broken edit never reaches a call. Reloads
// run one at a time; requests made while one runs are answered together by the next run
// (a burst of requests costs at most two loads). Safe for concurrent use.
type Reloader struct {
	o       ReloaderOptions
	started *config.Config // the settings the process runs its sockets with

	run     sync.Mutex     // held for a whole reload or rebuild
	overlay func(*Options) // the last Rebuild's, applied to every load; guarded by run

	mu        sync.Mutex // guards the fields below
	requested uint64     // tickets handed out
	covered   uint64     // highest ticket a started reload covers
	last      Result
	lastErr   error
	stats     Stats
}

// NewReloader returns a Reloader for o. The bundle o.Live holds now is the running one:
// its settings are what later reloads compare to for settings needing a restart.
func NewReloader(o ReloaderOptions) (*Reloader, error) {
	if o.Live == nil || o.Live.Current() == nil || o.Sources == nil {
		return nil, errors.New("new reloader: no running bundle or no sources")
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Recent <= 0 {
		o.Recent = defaultRecent
	}
	return &Reloader{o: o, started: o.Live.Current().Config(), overlay: o.Overlay}, nil
}

// Reload loads everything again and swaps the new bundle in when it has no error. reason
// names the trigger in the logs and the result. On any error the running bundle stays, every
// error is logged on its own line and counted, and the error wraps ErrRefused. A Reload
// called while another runs waits and may be answered by a reload that started after it
// was called (it sees every file written before the call).
func (r *Reloader) Reload(reason string) (Result, error) {
	r.mu.Lock()
	r.requested++
	ticket := r.requested
	r.mu.Unlock()

	r.run.Lock()
	defer r.run.Unlock()

	r.mu.Lock()
	if r.covered >= ticket { // a reload that started after this request has run
		r.stats.Coalesced++
		res, err := r.last, r.lastErr
		r.mu.Unlock()
		return res, err
	}
	r.covered = r.requested
	r.mu.Unlock()

	res, err := r.reload(reason)

	r.mu.Lock()
	defer r.mu.Unlock()
	r.last, r.lastErr = res, err
	r.stats.Reloads++
	if err != nil {
		r.stats.Failures++
		r.stats.LastError = firstOr(res.Errors, err.Error())
		r.stats.LastErrorTime = res.Time
		kept := res.Errors[:min(len(res.Errors), maxKeptErrors)]
		r.stats.Recent = append(r.stats.Recent, Failure{Time: res.Time, Reason: reason, Errors: kept})
		if n := len(r.stats.Recent); n > r.o.Recent {
			r.stats.Recent = append([]Failure(nil), r.stats.Recent[n-r.o.Recent:]...)
		}
	} else {
		r.stats.LastSuccessTime = res.Time
	}
	return res, err
}

// reload is one load and, when clean, one swap. It runs under r.run.
func (r *Reloader) reload(reason string) (Result, error) {
	log := r.o.Log.With("reason", reason)
	res := Result{Reason: reason}
	opts, err := r.sources(r.overlay)
	var b *Bundle
	var d Diagnostics
	if err == nil {
		b, d = Load(opts)
		res.Errors, res.Warnings = d.lines(opts.Dir)
	} else {
		res.Errors = strings.Split(err.Error(), "\n")
	}
	res.Time = r.o.Now()
	cur := r.o.Live.Current()
	if b == nil {
		if len(res.Errors) == 0 { // Load's contract says this cannot happen; never swap nil
			res.Errors = []string{"load: no bundle and no error"}
		}
		for _, e := range res.Errors {
			log.Error("reload refused: " + e)
		}
		res.Source, res.Templates = cur.Source(), len(cur.Templates().Templates())
		log.Warn("reload refused, the running templates and settings stay", "errors", len(res.Errors))
		return res, fmt.Errorf("%w: %d errors, first: %s", ErrRefused, len(res.Errors), res.Errors[0])
	}
	for _, w := range res.Warnings {
		log.Warn("reload warning: " + w)
	}
	res.Restart = config.RestartNeeded(r.started, b.Config())
	if len(res.Restart) > maxRestartReport {
		res.Restart = res.Restart[:maxRestartReport]
	}
	for _, k := range res.Restart {
		log.Warn("reload: setting changed but needs a restart; the old value stays in use", "setting", k)
	}
	r.swap(b)
	res.OK = true
	res.Source, res.Templates = b.Source(), len(b.Templates().Templates())
	log.Info("reload applied", "templates", res.Source, "templates_loaded", res.Templates,
		"restart_needed", len(res.Restart))
	return res, nil
}

// sources is what the next load loads: Sources, changed by overlay when set.
func (r *Reloader) sources(overlay func(*Options)) (Options, error) {
	opts, err := r.o.Sources()
	if err == nil && overlay != nil {
		overlay(&opts)
	}
	return opts, err
}

// swap makes b the running bundle and applies its settings. It runs under r.run.
func (r *Reloader) swap(b *Bundle) {
	r.o.Live.Store(b)
	if r.o.Apply != nil {
		r.o.Apply(b.Config())
	}
}

// Current returns the running bundle.
func (r *Reloader) Current() *Bundle { return r.o.Live.Current() }

// Rebuild is the hook of the template push API: it loads the sources as a reload does, with
// overlay applied to the Options (it sets the pushed templates), and, when the load has no
// error and commit (nil allowed) succeeds, swaps the bundle in and keeps overlay for every
// later reload, so a file reload never drops what was pushed. On a load error it returns the
// diagnostics and a *LoadError (or the Sources error), on a commit error that error, and
// changes nothing. It runs under the same lock as Reload and is not counted in Stats (the
// push API counts its own requests).
func (r *Reloader) Rebuild(overlay func(*Options), commit func() error) (Diagnostics, error) {
	r.run.Lock()
	defer r.run.Unlock()
	opts, err := r.sources(overlay)
	if err != nil {
		return Diagnostics{SettingErrors: strings.Split(err.Error(), "\n")}, err
	}
	b, d := Load(opts)
	if err := d.Err(); err != nil {
		return d, err
	}
	if commit != nil {
		if err := commit(); err != nil {
			return d, err
		}
	}
	r.overlay = overlay
	r.swap(b)
	return d, nil
}

// Stats returns a snapshot of the counters and the recent failures.
func (r *Reloader) Stats() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.stats
	s.Recent = append([]Failure(nil), r.stats.Recent...)
	return s
}

// lines formats the diagnostics as the reload reports them: errors (template and dialplan
// errors as "file:line: message" with the file under dir, then the settings' errors), and
// warnings (the load's warnings, the unroutable dialplan problems, the settings' warnings).
func (d Diagnostics) lines(dir string) (errs, warns []string) {
	for _, e := range d.Errors {
		errs = append(errs, posIn(dir, e))
	}
	for _, m := range d.SettingErrors {
		errs = append(errs, "settings: "+m)
	}
	for _, w := range d.Warnings {
		warns = append(warns, posIn(dir, w))
	}
	for _, w := range d.Unroutable {
		warns = append(warns, "calls answered 404: "+posIn(dir, w))
	}
	for _, m := range d.SettingWarnings {
		warns = append(warns, "settings: "+m)
	}
	return errs, warns
}

// posIn formats e with its file under the template directory dir.
func posIn(dir string, e *dialect.Error) string {
	p := e.Pos
	// A pushed template's file ("pushed:NAME") is not under the directory.
	if dir != "" && p.File != "" && p.File != dir && !filepath.IsAbs(p.File) && !strings.HasPrefix(p.File, PushedPrefix) {
		p.File = filepath.Join(dir, filepath.FromSlash(p.File))
	}
	switch {
	case p.File == "":
		return e.Msg
	case p.Line <= 0:
		return p.File + ": " + e.Msg
	}
	return (&dialect.Error{Pos: p, Msg: e.Msg}).Error()
}

func firstOr(s []string, def string) string {
	if len(s) > 0 {
		return s[0]
	}
	return def
}
