package dialplan

import (
	"errors"
	"fmt"
	"strings"
)

// parseAppCall splits "Name(args)" (or a bare "Name") into the name and the raw argument text.
func parseAppCall(s string) (name, raw string, err error) {
	s = strings.TrimSpace(s)
	open := strings.IndexByte(s, '(')
	if open < 0 {
		name = s
	} else {
		name = strings.TrimSpace(s[:open])
		if !strings.HasSuffix(s, ")") {
			return "", "", fmt.Errorf("bad application call %q: want App(arguments)", s)
		}
		raw = s[open+1 : len(s)-1]
	}
	if name == "" {
		return "", "", fmt.Errorf("bad application call %q: no application name", s)
	}
	if !appName.MatchString(name) {
		return "", "", fmt.Errorf("bad application name %q", name)
	}
	return name, raw, nil
}

// Errors in argument text.
var (
	errUnclosedQuote  = errors.New(`unclosed " in arguments`)
	errUnclosedAction = errors.New("unclosed {{ in arguments")
	errUnbalanced     = errors.New("unbalanced parentheses in arguments")
)

// scanTop walks raw and calls at(i) for every byte that is at top level: outside "{{ }}"
// actions, double quotes, backslash escapes and nested parentheses. at returns false to stop.
func scanTop(raw string, at func(i int) bool) error {
	depth, quoted := 0, false
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch {
		case strings.HasPrefix(raw[i:], "{{"):
			end := strings.Index(raw[i+2:], "}}")
			if end < 0 {
				return errUnclosedAction
			}
			i += end + 3
			continue
		case c == '\\' && i+1 < len(raw):
			i++
			continue
		case c == '"':
			quoted = !quoted
			continue
		case quoted:
			continue
		case c == '(':
			depth++
			continue
		case c == ')':
			depth--
			if depth < 0 {
				return errUnbalanced
			}
			continue
		}
		if depth == 0 && !at(i) {
			return nil
		}
	}
	if quoted {
		return errUnclosedQuote
	}
	if depth != 0 {
		return errUnbalanced
	}
	return nil
}

// splitTop splits raw at top-level occurrences of sep, at most n parts (n < 0: all), and
// unquotes each part. Empty raw gives no arguments.
func splitTop(raw string, sep byte, n int) ([]string, error) {
	if strings.TrimSpace(raw) == "" {
		return nil, scanTop(raw, func(int) bool { return true })
	}
	var parts []string
	start := 0
	err := scanTop(raw, func(i int) bool {
		if raw[i] != sep || (n >= 0 && len(parts) == n-1) {
			return true
		}
		parts = append(parts, raw[start:i])
		start = i + 1
		return true
	})
	if err != nil {
		return nil, err
	}
	parts = append(parts, raw[start:])
	for i, p := range parts {
		parts[i] = unquote(p)
	}
	return parts, nil
}

// splitArgs is the default split: every top-level comma.
func splitArgs(raw string) ([]string, error) { return splitTop(raw, ',', -1) }

// unquote trims spaces, then removes double quotes and backslash escapes outside "{{ }}"
// actions, whose text is kept exactly.
func unquote(s string) string {
	s = strings.TrimSpace(s)
	if !strings.ContainsAny(s, `"\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case strings.HasPrefix(s[i:], "{{"):
			end := strings.Index(s[i+2:], "}}")
			if end < 0 {
				b.WriteString(s[i:])
				return b.String()
			}
			b.WriteString(s[i : i+end+4])
			i += end + 3
		case c == '\\' && i+1 < len(s):
			b.WriteByte(s[i+1])
			i++
		case c == '"':
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// splitAssign splits Set's "NAME=value" at the first top-level "=".
func splitAssign(raw string) ([]string, error) {
	parts, err := splitTop(raw, '=', 2)
	if err != nil {
		return nil, err
	}
	if len(parts) != 2 {
		return nil, appErrorf("Set", "want NAME=value")
	}
	return parts, nil
}

// splitFirstComma splits at the first top-level comma only (Log: level, then the message,
// which may hold commas).
func splitFirstComma(raw string) ([]string, error) { return splitTop(raw, ',', 2) }

// indexTop returns the index of the first top-level sep in raw, or -1.
func indexTop(raw string, sep byte) (int, error) {
	at := -1
	err := scanTop(raw, func(i int) bool {
		if raw[i] == sep {
			at = i
			return false
		}
		return true
	})
	return at, err
}

// splitGotoIf splits "cond?[labeltrue][:labelfalse]" into seven arguments: the condition and,
// for each branch, context, extension and priority ("" when absent). The structure is split
// at load time, so an expanded value can never change it.
func splitGotoIf(raw string) ([]string, error) {
	q, err := indexTop(raw, '?')
	if err != nil {
		return nil, err
	}
	if q < 0 {
		return nil, appErrorf("GotoIf", "want condition?[labeliftrue][:labeliffalse]")
	}
	out := []string{unquote(raw[:q])}
	rest := raw[q+1:]
	branches := []string{rest, ""}
	c, err := indexTop(rest, ':')
	if err != nil {
		return nil, err
	}
	if c >= 0 {
		branches = []string{rest[:c], rest[c+1:]}
	}
	for _, b := range branches {
		var t []string
		if strings.TrimSpace(b) != "" {
			if t, err = splitArgs(b); err != nil {
				return nil, err
			}
			if len(t) > 3 {
				return nil, appErrorf("GotoIf", "label %q: want [[context,]exten,]priority", strings.TrimSpace(b))
			}
		}
		out = append(out, padTarget(t)...)
	}
	return out, nil
}

// padTarget turns [[context,]exten,]priority into context, exten, priority.
func padTarget(t []string) []string {
	out := make([]string, 3)
	copy(out[3-len(t):], t)
	return out
}

// formatCall writes an application call for listings and traces: Set as NAME=value, GotoIf
// as cond?true:false, others with their arguments joined by commas.
func formatCall(app string, args []string) string {
	switch {
	case app == "Set" && len(args) == 2:
		return "Set(" + args[0] + "=" + args[1] + ")"
	case app == "GotoIf" && len(args) == 7:
		s := "GotoIf(" + args[0] + "?" + joinTarget(args[1:4])
		if f := joinTarget(args[4:7]); f != "" {
			s += ":" + f
		}
		return s + ")"
	}
	return app + "(" + strings.Join(args, ",") + ")"
}

// joinTarget writes context, exten, priority as Asterisk's [[context,]exten,]priority.
func joinTarget(t []string) string {
	switch {
	case t[0] != "":
		return strings.Join(t, ",")
	case t[1] != "":
		return t[1] + "," + t[2]
	}
	return t[2]
}
