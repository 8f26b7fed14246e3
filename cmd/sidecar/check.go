package main

import (
	"cmp"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"

	"github.com/sidecar-voip/sidecar/internal/dialect"
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
	bundle, diag := load(cfg, *dir, nil, nil, nil)
	errs, warns := append(diag.Errors, diag.Unroutable...), diag.Warnings
	cfgErrs, cfgWarns := diag.SettingErrors, diag.SettingWarnings // printed as "FILE: message"
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
	names := bundle.Templates().Templates()
	fmt.Fprintf(stdout, "ok: %s, %s, %s\n", plural(len(names), "template"), plural(len(bundle.Plan().Contexts()), "context"),
		plural(len(warns)+len(cfgWarns), "warning"))
	if *verbose {
		fmt.Fprintf(stdout, "templates: %s\n", strings.Join(names, ", "))
	}
	return 0
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
