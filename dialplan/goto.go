package dialplan

import (
	"context"
	"fmt"
	"strings"
)

func runGoto(_ context.Context, _ *Call, args []string) (Result, error) {
	t := padTarget(args)
	return gotoTarget("Goto", t[0], t[1], t[2])
}

func gotoTarget(app, ctxName, exten, prio string) (Result, error) {
	ctxName, exten, prio = strings.TrimSpace(ctxName), strings.TrimSpace(exten), strings.TrimSpace(prio)
	if prio == "" {
		return Result{}, fmt.Errorf("%s: empty priority", app)
	}
	return GoTo(Target{Context: ctxName, Exten: exten, Priority: prio}), nil
}

func runGotoIf(_ context.Context, _ *Call, args []string) (Result, error) {
	branch := args[4:7]
	if condition(args[0]) {
		branch = args[1:4]
	}
	if strings.TrimSpace(branch[0]+branch[1]+branch[2]) == "" {
		return Next(), nil
	}
	return gotoTarget("GotoIf", branch[0], branch[1], branch[2])
}

// condition is Asterisk's pbx_checkcondition: false when empty, or when the text starts with
// an integer that is 0; otherwise true. Unlike Asterisk, "false" (any case) is also false,
// since templates print booleans as true and false.
func condition(s string) bool {
	s = strings.TrimSpace(s)
	if s == "" || strings.EqualFold(s, "false") {
		return false
	}
	i := 0
	if s[0] == '+' || s[0] == '-' {
		i = 1
	}
	j := i
	for j < len(s) && s[j] >= '0' && s[j] <= '9' {
		j++
	}
	if j == i {
		return true
	}
	return strings.Trim(s[i:j], "0") != ""
}

func checkGoto(p *Plan, e *extension, args []string, lit []bool) error {
	t, l := padTarget(args), make([]bool, 3)
	copy(l[3-len(lit):], lit)
	for i := 0; i < 3-len(lit); i++ {
		l[i] = true
	}
	return checkTarget(p, e, "Goto", t, l)
}

func checkGotoIf(p *Plan, e *extension, args []string, lit []bool) error {
	for b := 1; b < 7; b += 3 {
		t := args[b : b+3]
		if t[0] == "" && t[1] == "" && t[2] == "" {
			continue
		}
		if err := checkTarget(p, e, "GotoIf", t, lit[b:b+3]); err != nil {
			return err
		}
	}
	return nil
}

// checkTarget checks a jump whose parts are literal: the context exists and the extension
// has the priority or label. Parts that are templates are checked per call instead.
func checkTarget(p *Plan, e *extension, app string, t []string, lit []bool) error {
	ctxName, exten, prio := t[0], t[1], t[2]
	if lit[2] && prio == "" {
		return fmt.Errorf("%s: empty priority", app)
	}
	if !lit[0] || !lit[1] || !lit[2] {
		return nil
	}
	if ctxName != "" && !p.HasContext(ctxName) {
		return fmt.Errorf("%s: unknown context %q", app, ctxName)
	}
	if exten == "" {
		if ctxName != "" && ctxName != e.ctx.name {
			return nil // the current extension in another context: known per call only
		}
		if !hasPriority(e, prio) {
			return fmt.Errorf("%s: no priority or label %q in extension %q", app, prio, e.pat.text)
		}
		return nil
	}
	if ctxName == "" {
		ctxName = e.ctx.name
	}
	if p.find(ctxName, exten, prio) == nil {
		return fmt.Errorf("%s: %w %s,%s,%s", app, ErrBadTarget, ctxName, exten, prio)
	}
	return nil
}

func hasPriority(e *extension, prio string) bool {
	for _, st := range e.steps {
		if st.Label == prio || fmt.Sprint(st.Priority) == prio {
			return true
		}
	}
	return false
}
