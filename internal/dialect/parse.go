package dialect

import (
	"strings"
)

// parseFile parses one file's text, inlined into the section cur (nil outside any section).
// A section opened inside the file ends with the file: the includer continues in cur.
func (l *loader) parseFile(name, text string, cur *rawSection) {
	var cs commentState
	sec := cur
	text = strings.TrimPrefix(text, "\ufeff") // a UTF-8 byte order mark
	lineNo := 0
	for len(text) > 0 {
		var raw string
		if i := strings.IndexByte(text, '\n'); i >= 0 {
			raw, text = text[:i], text[i+1:]
		} else {
			raw, text = text, ""
		}
		lineNo++
		pos := Pos{File: name, Line: lineNo}
		line := strings.TrimSpace(cs.strip(raw, lineNo))
		if line == "" {
			continue
		}
		if cutShort(raw, line, cs.cut) {
			l.warnf(pos, "the ; after %q starts a comment, so the value ends there: write \\; for a literal semicolon, or put a space before a ; that starts a comment", lastWord(raw[:cs.cut]))
		}
		switch line[0] {
		case '[':
			sec = l.header(line, pos)
		case '#':
			l.directive(line, pos, sec)
		default:
			l.keyValue(line, pos, sec)
		}
	}
	if cs.depth > 0 {
		l.errorf(Pos{File: name, Line: cs.start}, "unterminated block comment: ;-- has no matching --;")
	}
}

// commentState carries block-comment nesting from one line to the next.
type commentState struct {
	depth int // nesting depth of ;-- --; comments
	start int // line of the outermost open ;--
	cut   int // index of the ";" that started a line comment on the last line, -1 when none
}

// cutShort reports whether a key/value line lost part of its value to a line comment that
// starts right after the value's text (no space before the ";"): "secret = ab;cd" is
// almost always a value with a semicolon, not "ab" and a comment. A ";" inside an unclosed
// {{ is not reported here: the template then fails to compile, with its own hint.
func cutShort(raw, line string, cut int) bool {
	if cut <= 0 || line[0] == '[' || line[0] == '#' || !strings.Contains(line, "=") {
		return false
	}
	before := raw[:cut]
	switch before[len(before)-1] {
	case ' ', '\t', '=', '>':
		return false
	}
	return strings.Count(before, "{{") <= strings.Count(before, "}}")
}

// lastWord returns the text after the last space or "=" of s, for messages.
func lastWord(s string) string {
	return s[strings.LastIndexAny(s, " \t=>")+1:]
}

// strip removes comments from one physical line, following Asterisk: ";" starts a comment to
// the end of the line, "\;" is a literal ";", ";--" (but not ";---") opens a block comment and
// "--;" closes one; block comments nest. What is left of the line outside comments is joined.
func (cs *commentState) strip(s string, lineNo int) string {
	cs.cut = -1
	if cs.depth == 0 && strings.IndexByte(s, ';') < 0 {
		return s
	}
	out := make([]byte, 0, len(s))
	from := 0 // start of text not yet consumed by a comment token
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != ';' {
			if cs.depth == 0 {
				out = append(out, c)
			}
			continue
		}
		escaped := i > from && s[i-1] == '\\'
		opens := strings.HasPrefix(s[i:], ";--") && !strings.HasPrefix(s[i:], ";---")
		switch {
		case escaped:
			if cs.depth == 0 {
				out[len(out)-1] = ';' // the backslash written just before
			}
		case opens:
			if cs.depth == 0 {
				cs.start = lineNo
			}
			cs.depth++
			i += 2
			from = i + 1
		case cs.depth > 0 && i-2 >= from && s[i-2:i] == "--":
			cs.depth--
			from = i + 1
		case cs.depth > 0:
			// a lone ";" inside a block comment is comment text
		default:
			cs.cut = i
			return string(out)
		}
	}
	return string(out)
}

// header parses a "[name](options)" line and returns the section that following lines go to.
func (l *loader) header(line string, pos Pos) *rawSection {
	end := strings.IndexByte(line, ']')
	if end < 0 {
		l.errorf(pos, "missing ] in section header %s", line)
		return &rawSection{discard: true, pos: pos}
	}
	raw := line[1:end]
	name := strings.TrimSpace(raw)
	if name == "" {
		l.errorf(pos, "empty section name")
		return &rawSection{discard: true, pos: pos}
	}
	if name != raw || strings.ContainsAny(name, " \t") {
		l.warnf(pos, "section name %q contains spaces (Asterisk keeps them as part of the name; here they are trimmed at the ends)", raw)
	}
	s := &rawSection{name: name, pos: pos}
	rest := line[end+1:]
	trimmed := strings.TrimLeft(rest, " \t")
	switch {
	case strings.HasPrefix(trimmed, "("):
		if trimmed != rest {
			l.warnf(pos, "space between ] and ( in [%s]: Asterisk ignores the option list after a space; it is applied here", name)
		}
		closing := strings.IndexByte(trimmed, ')')
		if closing < 0 {
			l.errorf(pos, "missing ) in option list of [%s]", name)
			break
		}
		l.options(s, trimmed[1:closing], pos)
		if after := strings.TrimSpace(trimmed[closing+1:]); after != "" {
			l.warnf(pos, "text after ) in [%s] is ignored: %q", name, after)
		}
	case trimmed != "":
		l.warnf(pos, "text after ] in [%s] is ignored: %q", name, trimmed)
	}
	if s.add {
		l.adds = append(l.adds, s)
		return s
	}
	if first, ok := l.sections[name]; ok {
		l.errorf(pos, "duplicate section [%s] (first defined at %s); use [%s](+) to add lines to it", name, first.pos, name)
		s.discard = true
		return s
	}
	l.sections[name] = s
	l.order = append(l.order, s)
	return s
}

// options parses the text between "(" and ")" of a section header into s.
func (l *loader) options(s *rawSection, list string, pos Pos) {
	for _, o := range strings.Split(list, ",") {
		o = strings.TrimSpace(o)
		switch {
		case o == "":
			l.errorf(pos, "empty name in option list of [%s]", s.name)
		case o == "!":
			s.abstract = true
		case o == "+":
			s.add = true
		case strings.ContainsAny(o, "()[]+!"):
			l.errorf(pos, "bad name %q in option list of [%s]", o, s.name)
		case o == s.name:
			l.errorf(pos, "[%s] inherits from itself", s.name)
		case contains(s.parents, o):
			l.warnf(pos, "[%s] lists parent %q twice; it is inherited once", s.name, o)
		default:
			s.parents = append(s.parents, o)
		}
	}
	if s.add && (s.abstract || len(s.parents) > 0) {
		l.errorf(pos, "(+) cannot be combined with other options in [%s]", s.name)
		s.abstract, s.parents = false, nil
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// directive handles a line starting with "#".
func (l *loader) directive(line string, pos Pos, sec *rawSection) {
	n := 1
	for n < len(line) && (line[n] >= 'a' && line[n] <= 'z' || line[n] >= 'A' && line[n] <= 'Z') {
		n++
	}
	name := strings.ToLower(line[1:n])
	arg := strings.TrimSpace(line[n:])
	switch name {
	case "include", "tryinclude":
		l.include(name, arg, pos, sec)
	default:
		l.errorf(pos, "unknown directive #%s (only #include and #tryinclude are supported)", line[1:n])
	}
}

// keyValue parses "key = value", "key => value" or "key += value" into the section sec.
// The line splits at its first "=": a following ">" makes it "=>", a preceding "+" makes it "+=".
func (l *loader) keyValue(line string, pos Pos, sec *rawSection) {
	i := strings.IndexByte(line, '=')
	if i < 0 {
		if sec == nil {
			l.errorf(pos, "text outside any section: %q", line)
		} else {
			l.errorf(pos, "line has no = (want key = value, key => value or key += value): %q", line)
		}
		return
	}
	key, value, op := line[:i], line[i+1:], OpSet
	switch {
	case strings.HasPrefix(value, ">"):
		op, value = OpArrow, value[1:]
	case strings.HasSuffix(key, "+"):
		op, key = OpAppend, key[:len(key)-1]
	}
	key, value = strings.TrimSpace(key), strings.TrimSpace(value)
	if sec == nil {
		l.errorf(pos, "key %q outside any section (add a [section] header first)", key)
		return
	}
	if key == "" {
		l.errorf(pos, "empty key in %q", line)
		return
	}
	if q := strings.Count(value, `"`); q%2 == 1 && (strings.HasPrefix(value, `"`) || strings.HasSuffix(value, `"`)) {
		l.warnf(pos, "value of %s has an unbalanced quote: %s (quotes are kept as part of the value)", key, value)
	}
	sec.lines = append(sec.lines, Line{Key: key, Value: value, Op: op, Pos: pos})
}
