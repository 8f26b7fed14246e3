package main

import (
	"cmp"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/sidecar-voip/sidecar/dialplan"
	"github.com/sidecar-voip/sidecar/identify/standard"
	"github.com/sidecar-voip/sidecar/internal/dialect"
	"github.com/sidecar-voip/sidecar/profile"
	"github.com/sidecar-voip/sidecar/templates"
)

// runCheck implements "sidecar check [-config FILE] [-templates DIR] [-v]": it loads and
// validates the settings file, the template files and the dialplan (extensions.conf, which must
// exist; every app checks its arguments), checks that the identifiers' templates exist and that
// literal template contexts are dialplan contexts, and prints one "file:line: message" line per
// problem (warnings read "file:line: warning: message"), then "ok: N templates, M contexts, K
// warnings" when there is no error. Exit status: 0 when there is no error (warnings allowed),
// 1 on errors, 2 on a usage error.
func runCheck(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("check", flag.ContinueOnError)
	fl.SetOutput(stderr)
	dir := fl.String("templates", "", "`DIR`ectory of template files (default: [general] templates, else the shipped templates)")
	cfgPath := fl.String("config", "", "settings `FILE` (default: the embedded defaults)")
	verbose := fl.Bool("v", false, "also list the templates found when the check passes")
	fl.Usage = func() {
		fmt.Fprintln(stderr, "usage: sidecar check [-config FILE] [-templates DIR] [-v]")
		fl.PrintDefaults()
	}
	if code, ok := parseFlags(fl, args); !ok {
		return code
	}
	if fl.NArg() > 0 {
		fl.Usage()
		return 2
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		fmt.Fprintln(stdout, err)
		fmt.Fprintln(stderr, "sidecar check: the settings file does not load")
		return 1
	}
	*dir = templatesDir(*dir, cfg)
	set, errs, warns := checkTemplates(*dir)
	var cfgErrs, cfgWarns []string // about the settings file, printed as "FILE: message"
	contexts := 0
	if set != nil {
		plan, perrs, pwarns := loadPlan(templateSource(*dir))
		errs, warns = append(errs, perrs...), append(warns, pwarns...)
		if e := dialplan.MissingFile(templateSource(*dir), "."); e != nil {
			errs, plan = append(errs, e), nil
		}
		if plan != nil {
			errs = append(errs, plan.CheckContexts(set.LiteralContexts())...)
			contexts = len(plan.Contexts())
		}
		if _, err := standard.Chain(cfg, set); err != nil {
			cfgErrs = append(cfgErrs, err.Error())
		}
		if slices.Contains(cfg.SIP.Identify, "username") && cfg.Identify.Username == "" {
			cfgWarns = append(cfgWarns, "[sip] identify has username without [identify] username-prefix: "+
				"any caller can pick any template by its From user; set a prefix such as \"user-\"")
		}
		if plan != nil {
			if d := cfg.SIP.DefaultContext; d != "" && len(plan.Contexts()) > 0 && !plan.HasContext(d) {
				cfgWarns = append(cfgWarns, fmt.Sprintf("[sip] default-context %q is not a context of extensions.conf", d))
			}
		}
	}
	printDiagnostics(stdout, *dir, errs, warns)
	for _, m := range cfgErrs {
		fmt.Fprintf(stdout, "%s: %s\n", configName(*cfgPath), m)
	}
	for _, m := range cfgWarns {
		fmt.Fprintf(stdout, "%s: warning: %s\n", configName(*cfgPath), m)
	}
	if n := len(errs) + len(cfgErrs); n > 0 {
		fmt.Fprintf(stderr, "sidecar check: %s, %s\n", plural(n, "error"), plural(len(warns)+len(cfgWarns), "warning"))
		return 1
	}
	fmt.Fprintf(stdout, "ok: %s, %s, %s\n", plural(len(set.Templates()), "template"), plural(contexts, "context"),
		plural(len(warns)+len(cfgWarns), "warning"))
	if *verbose {
		fmt.Fprintf(stdout, "templates: %s\n", strings.Join(set.Templates(), ", "))
	}
	return 0
}

// templateSource returns the file system holding the templates: dir, or the shipped
// templates when dir is "".
func templateSource(dir string) fs.FS {
	if dir == "" {
		return templates.FS
	}
	return os.DirFS(dir)
}

// checkTemplates loads and compiles the templates of dir (the shipped ones when dir is "").
func checkTemplates(dir string) (*profile.Set, dialect.Errors, dialect.Errors) {
	if dir != "" {
		if fi, err := os.Stat(dir); err != nil {
			return nil, dialect.Errors{{Pos: dialect.Pos{File: dir}, Msg: err.Error()}}, nil
		} else if !fi.IsDir() {
			return nil, dialect.Errors{{Pos: dialect.Pos{File: dir}, Msg: "not a directory"}}, nil
		}
	}
	return profile.CheckFS(templateSource(dir), ".")
}

// printDiagnostics prints errors and warnings in file then line order, positions joined to
// dir so that editors can jump to them.
func printDiagnostics(w io.Writer, dir string, errs, warns dialect.Errors) {
	type diag struct {
		pos  dialect.Pos
		text string
	}
	var all []diag
	for _, e := range errs {
		all = append(all, diag{e.Pos, e.Msg})
	}
	for _, e := range warns {
		all = append(all, diag{e.Pos, "warning: " + e.Msg})
	}
	slices.SortStableFunc(all, func(a, b diag) int {
		return cmp.Or(cmp.Compare(a.pos.File, b.pos.File), cmp.Compare(a.pos.Line, b.pos.Line))
	})
	for _, d := range all {
		fmt.Fprintf(w, "%s: %s\n", posString(dir, d.pos), d.text)
	}
}

// posString formats a position as "file:line" ("file" for a whole-file problem), the file
// joined to dir when it is relative to it.
func posString(dir string, p dialect.Pos) string {
	file := p.File
	if dir != "" && file != dir && !filepath.IsAbs(file) {
		file = filepath.Join(dir, filepath.FromSlash(file))
	}
	if p.Line <= 0 {
		return file
	}
	return fmt.Sprintf("%s:%d", file, p.Line)
}

// configName names the settings file in diagnostics.
func configName(path string) string {
	if path == "" {
		return "(default settings)"
	}
	return path
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
