package dialplan

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"github.com/sidecar-voip/sidecar/internal/dialect"
	"github.com/sidecar-voip/sidecar/internal/suggest"
	"github.com/sidecar-voip/sidecar/profile"
)

// MissingFile returns an error at dir/extensions.conf when fsys has no such file, nil when it
// has. LoadFS accepts a directory without one (an empty Plan) and serve runs with it, but then
// every call is answered 404 Not Found, so "sidecar check" reports it as an error.
func MissingFile(fsys fs.FS, dir string) *dialect.Error {
	name := path.Join(dir, FileName)
	if _, err := fs.Stat(fsys, name); !errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return &dialect.Error{Pos: dialect.Pos{File: name}, Msg: "no dialplan: the file does not exist, so every call " +
		"would be answered 404 Not Found; write it with at least one [context] (see docs/dialplan.md)"}
}

// CheckContexts reports, for "sidecar check", every literal template context (see
// profile.Set.LiteralContexts) that names no context of the plan. They are errors, not
// warnings: a call that takes its context from such a template (the caller's, else the
// callee's) always ends in 404 Not Found, whatever its request. One error per line written,
// naming every template that uses it, with the closest context as a "did you mean".
func (p *Plan) CheckContexts(uses []profile.ContextUse) dialect.Errors {
	type use struct {
		ctx   string
		names []string
	}
	var errs dialect.Errors
	byPos := make(map[dialect.Pos]*use)
	var order []dialect.Pos
	for _, u := range uses {
		if p.HasContext(u.Context) {
			continue
		}
		e := byPos[u.Pos]
		if e == nil {
			e = &use{ctx: u.Context}
			byPos[u.Pos] = e
			order = append(order, u.Pos)
		}
		e.names = append(e.names, u.Template)
	}
	for _, pos := range order {
		e := byPos[pos]
		hint := ""
		if near := suggest.Closest(e.ctx, p.Contexts(), min(3, 1+len(e.ctx)/3)); near != "" {
			hint = fmt.Sprintf(" (did you mean %q?)", near)
		}
		what := "template " + fmt.Sprintf("%q", e.names[0])
		if len(e.names) > 1 {
			what = "templates " + quoteJoin(e.names)
		}
		errs = append(errs, &dialect.Error{Pos: pos, Msg: fmt.Sprintf(
			"context %q is not a context of %s%s: calls routed by %s would get 404", e.ctx, FileName, hint, what)})
	}
	return errs
}

func quoteJoin(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}
