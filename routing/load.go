package routing

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"

	"github.com/sidecar-voip/sidecar/config"
	"github.com/sidecar-voip/sidecar/dialplan"
	"github.com/sidecar-voip/sidecar/identify"
	"github.com/sidecar-voip/sidecar/identify/standard"
	"github.com/sidecar-voip/sidecar/internal/dialect"
	"github.com/sidecar-voip/sidecar/profile"
	"github.com/sidecar-voip/sidecar/templates"
)

// Embedded is the Source name of the templates shipped in the binary.
const Embedded = "(embedded)"

// Options is what Load loads.
type Options struct {
	// Config is the settings; Load reads [sip] identify and default-context and [identify],
	// and Route reads [sip] default-context and no-match. Required.
	Config *config.Config
	// Dir is the directory of template and dialplan files; "" means the shipped templates
	// embedded in the binary.
	Dir string
	// FS, when set, is read instead of Dir, which then only names the source (tests; files
	// held in memory).
	FS fs.FS
	// Apps is every dialplan application the dialplan may name (signalling and media: see
	// app.NewRegistry). Required.
	Apps *dialplan.Registry
	// Pushed are templates pushed over the admin API, compiled together with the template
	// files (see Pushed); their positions read "pushed:NAME:line".
	Pushed []Pushed
}

// Diagnostics is everything Load found wrong or suspicious.
type Diagnostics struct {
	// Errors and Warnings are problems in the template and dialplan files, each at its
	// "file:line" (the file relative to the template directory), in file then line order
	// within the templates and then the dialplan.
	Errors, Warnings dialect.Errors
	// Unroutable are problems a load tolerates but that route calls nowhere (every such call
	// is answered 404 Not Found): a missing extensions.conf, a literal template context the
	// dialplan lacks. "sidecar check" reports them as errors; serve runs and logs them.
	Unroutable dialect.Errors
	// SettingErrors and SettingWarnings are problems of the settings against the files (an
	// identifier whose template does not exist, a default-context the dialplan lacks): they
	// belong to the settings file, without a line.
	SettingErrors, SettingWarnings []string
}

// Err is nil when there is no error (warnings allowed), else a *LoadError listing them.
func (d Diagnostics) Err() error {
	if len(d.Errors) == 0 && len(d.SettingErrors) == 0 {
		return nil
	}
	return &LoadError{Diagnostics: d}
}

// LoadError is a load that failed: its message is every error, one per line.
type LoadError struct {
	Diagnostics Diagnostics
}

func (e *LoadError) Error() string {
	lines := make([]string, 0, len(e.Diagnostics.Errors)+len(e.Diagnostics.SettingErrors))
	for _, d := range e.Diagnostics.Errors {
		lines = append(lines, d.Error())
	}
	for _, m := range e.Diagnostics.SettingErrors {
		lines = append(lines, "settings: "+m)
	}
	return strings.Join(lines, "\n")
}

// Bundle is one loaded configuration: the settings, the compiled templates, the dialplan and
// the identifier chain. It is immutable and safe for concurrent use.
type Bundle struct {
	cfg    *config.Config
	source string
	set    *profile.Set
	plan   *dialplan.Plan
	chain  *identify.Chain
	diag   Diagnostics
	doc    *dialect.Doc
	pushed []Pushed
}

// Config returns the settings the bundle was loaded with.
func (b *Bundle) Config() *config.Config { return b.cfg }

// Source names where the templates came from: the directory, or Embedded.
func (b *Bundle) Source() string { return b.source }

// Templates returns the compiled template set.
func (b *Bundle) Templates() *profile.Set { return b.set }

// Plan returns the compiled dialplan.
func (b *Bundle) Plan() *dialplan.Plan { return b.plan }

// Chain returns the identifier chain.
func (b *Bundle) Chain() *identify.Chain { return b.chain }

// Warnings returns the warnings of the load (a bundle has no errors).
func (b *Bundle) Warnings() Diagnostics { return b.diag }

// Section returns the resolved section of the template name (its own and inherited lines,
// each with its position), or nil when there is none. Callers must not modify it.
func (b *Bundle) Section(name string) *dialect.Section {
	if name == profile.MatchSection {
		return nil
	}
	return b.doc.Section(name)
}

// Sections returns every template section (abstract ones included, [template-match] not)
// in the order they were defined; pushed templates come after the files' ones. Callers must
// not modify them.
func (b *Bundle) Sections() []*dialect.Section {
	out := make([]*dialect.Section, 0, len(b.doc.Sections))
	for _, s := range b.doc.Sections {
		if s.Name != profile.MatchSection {
			out = append(out, s)
		}
	}
	return out
}

// Pushed returns the pushed templates the bundle was loaded with.
func (b *Bundle) Pushed() []Pushed { return slices.Clone(b.pushed) }

// Load loads and compiles everything o names and reports every problem. The Bundle is nil
// exactly when the Diagnostics hold an error (see Diagnostics.Err); warnings and Unroutable
// never stop a load. When the templates have errors, the dialplan and the identifier chain
// are not checked: fix the templates first.
func Load(o Options) (*Bundle, Diagnostics) {
	var d Diagnostics
	if o.Config == nil || o.Apps == nil {
		d.Errors = dialect.Errors{{Msg: "load: no settings or no application registry"}}
		return nil, d
	}
	source, fsys := o.Dir, o.FS
	switch {
	case fsys != nil:
		source = cmp.Or(source, "(fs)")
	case source == "":
		source, fsys = Embedded, templates.FS
	default:
		if err := isDir(o.Dir); err != nil {
			d.Errors = dialect.Errors{{Pos: dialect.Pos{File: o.Dir}, Msg: err.Error()}}
			return nil, d
		}
		fsys = os.DirFS(o.Dir)
	}
	set, doc, errs, warns := loadTemplates(fsys, o.Pushed)
	d.Errors, d.Warnings = append(d.Errors, errs...), append(d.Warnings, warns...)

	if set == nil {
		return nil, d // the dialplan and the chain are checked against templates that load
	}
	plan, err := dialplan.LoadFS(fsys, ".", o.Apps)
	if err != nil {
		d.Errors = append(d.Errors, asDiagnostics(err)...)
	} else {
		d.Warnings = append(d.Warnings, plan.Warnings()...)
	}

	if plan != nil {
		if e := dialplan.MissingFile(fsys, "."); e != nil {
			d.Unroutable = append(d.Unroutable, e)
		} else {
			d.Unroutable = append(d.Unroutable, plan.CheckContexts(set.LiteralContexts())...)
		}
	}

	chain, err := standard.Chain(o.Config, set)
	if err != nil {
		d.SettingErrors = append(d.SettingErrors, err.Error())
	}
	d.SettingWarnings = settingWarnings(o.Config, plan)
	if d.Err() != nil {
		return nil, d
	}
	return &Bundle{cfg: o.Config, source: source, set: set, plan: plan, chain: chain, diag: d,
		doc: doc, pushed: slices.Clone(o.Pushed)}, d
}

// isDir reports why dir is not a readable directory, nil when it is.
func isDir(dir string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return errors.New("not a directory")
	}
	return nil
}

// settingWarnings are the settings that load but cannot be what the operator meant.
func settingWarnings(cfg *config.Config, plan *dialplan.Plan) []string {
	var out []string
	if slices.Contains(cfg.SIP.Identify, "username") && cfg.Identify.Username == "" {
		out = append(out, "[sip] identify has username without [identify] username-prefix: "+
			"any caller can pick any template by its From user; set a prefix such as \"user-\"")
	}
	if plan != nil {
		if def := cfg.SIP.DefaultContext; def != "" && len(plan.Contexts()) > 0 && !plan.HasContext(def) {
			out = append(out, fmt.Sprintf("[sip] default-context %q is not a context of extensions.conf", def))
		}
	}
	return out
}

// asDiagnostics turns a dialplan load error into positioned diagnostics.
func asDiagnostics(err error) dialect.Errors {
	var de dialect.Errors
	if errors.As(err, &de) {
		return de
	}
	var pe dialplan.Errors
	if errors.As(err, &pe) {
		out := make(dialect.Errors, 0, len(pe))
		for _, e := range pe {
			out = append(out, &dialect.Error{Pos: e.Pos, Msg: e.Err.Error()})
		}
		return out
	}
	return dialect.Errors{{Msg: err.Error()}}
}
