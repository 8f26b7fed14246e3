package dialect

import (
	"fmt"
	"strings"

	"github.com/sidecar-voip/sidecar/internal/suggest"
)

// Resolution states of a rawSection.
const (
	unvisited = iota
	active
	done
)

// resolve attaches (+) blocks, checks parents, expands inheritance and fills l.doc.Sections.
func (l *loader) resolve() {
	for _, a := range l.adds {
		base := l.sections[a.name]
		if base == nil {
			l.errorf(a.pos, "[%s](+) adds to a section that does not exist", a.name)
			continue
		}
		base.lines = append(base.lines, a.lines...)
	}
	for _, s := range l.order {
		kept := s.parents[:0]
		for _, p := range s.parents {
			ps := l.sections[p]
			if ps == nil {
				l.errorf(s.pos, "unknown parent template %q of [%s]%s", p, s.name, l.didYouMean(p, s.name))
				continue
			}
			ps.children++
			kept = append(kept, p)
		}
		if len(kept) == 0 {
			kept = nil
		}
		s.parents = kept
	}
	for _, s := range l.order {
		l.resolveSection(s, nil)
	}
	for _, s := range l.order {
		if s.abstract && len(s.resolved) == 0 && s.children == 0 {
			l.warnf(s.pos, "template [%s] has no lines and nothing inherits from it", s.name)
		}
		sec := &Section{Name: s.name, Abstract: s.abstract, Parents: s.parents, Pos: s.pos, Lines: s.resolved}
		l.doc.Sections = append(l.doc.Sections, sec)
		l.doc.byName[s.name] = sec
	}
}

// didYouMean returns ` (did you mean "x"?)` naming the section closest to name (other than
// self), or "". Short names need a closer match, so "x" does not suggest "y".
func (l *loader) didYouMean(name, self string) string {
	names := make([]string, 0, len(l.order))
	for _, s := range l.order {
		if s.name != self {
			names = append(names, s.name)
		}
	}
	if near := suggest.Closest(name, names, min(3, 1+len(name)/3)); near != "" {
		return fmt.Sprintf(" (did you mean %q?)", near)
	}
	return ""
}

// resolveSection computes s.resolved: each parent's resolved lines in order, then s's own
// lines, then "+=" folded. stack holds the sections being resolved, for cycle reports.
func (l *loader) resolveSection(s *rawSection, stack []*rawSection) []Line {
	if s.state == done {
		return s.resolved
	}
	s.state = active
	stack = append(stack, s)
	var out []Line
	tooBig := false
	for _, pn := range s.parents { // resolve parents first, to size out once
		if p := l.sections[pn]; p.state == unvisited {
			l.resolveSection(p, stack)
		}
	}
	for _, pn := range s.parents {
		p := l.sections[pn]
		if p.state == active {
			l.errorf(s.pos, "inheritance cycle: %s", cycleChain(stack, p))
			continue
		}
		pl := l.resolveSection(p, stack)
		if l.overTotal || tooBig {
			continue
		}
		if len(out)+len(pl) > MaxSectionLines {
			tooBig = true
			continue
		}
		if out == nil {
			n := len(s.lines)
			for _, q := range s.parents {
				n += len(l.sections[q].resolved)
			}
			out = make([]Line, 0, min(n, MaxSectionLines))
		}
		for _, ln := range pl {
			if ln.From == "" {
				ln.From = pn
			}
			out = append(out, ln)
		}
	}
	own := s.lines
	if len(out)+len(own) > MaxSectionLines {
		tooBig = true
		own = own[:max(0, min(len(own), MaxSectionLines-len(out)))]
	}
	if tooBig {
		l.errorf(s.pos, "[%s] expands to more than %d lines through inheritance", s.name, MaxSectionLines)
	}
	if out == nil {
		// nothing inherited: the own lines are the resolved lines; fold must not write to them
		out = l.fold(own, false)
	} else {
		out = l.fold(append(out, own...), true)
	}
	l.total += len(out)
	if l.total > MaxTotalLines && !l.overTotal {
		l.overTotal = true
		l.errorf(s.pos, "inheritance expands the input to more than %d lines in total", MaxTotalLines)
	}
	s.resolved = out
	s.state = done
	return out
}

// cycleChain names the sections from p to the top of stack and back to p: "[a] -> [b] -> [a]".
func cycleChain(stack []*rawSection, p *rawSection) string {
	i := 0
	for i < len(stack) && stack[i] != p {
		i++
	}
	var b strings.Builder
	for _, s := range stack[i:] {
		b.WriteString("[" + s.name + "] -> ")
	}
	b.WriteString("[" + p.name + "]")
	return b.String()
}

// fold applies "+=" lines: each extends the value of the last earlier line with the same key,
// or becomes a "=" line (with a warning) when there is none. When owned, lines is folded in
// place; otherwise the result is a new slice.
func (l *loader) fold(lines []Line, owned bool) []Line {
	first := -1
	for i := range lines {
		if lines[i].Op == OpAppend {
			first = i
			break
		}
	}
	if first < 0 {
		return lines
	}
	out := lines[:first]
	if !owned {
		out = append(make([]Line, 0, len(lines)), out...)
	}
	var last map[string]int // key -> index in out, for long sections
	if len(lines) > 64 {
		last = make(map[string]int, len(lines))
		for i, ln := range out {
			last[ln.Key] = i
		}
	}
	for _, ln := range lines[first:] {
		if ln.Op == OpAppend {
			if j := lastIndex(out, last, ln.Key); j >= 0 {
				n := len(out[j].Value) + len(ln.Value)
				if l.foldBytes+n > maxFoldBytes {
					if !l.overFold {
						l.overFold = true
						l.errorf(ln.Pos, "+= builds more than %d bytes of values in total", maxFoldBytes)
					}
					continue
				}
				l.foldBytes += n
				out[j].Value += ln.Value
				continue
			}
			l.warnf(ln.Pos, "%s += has no earlier value to extend; it acts as =", ln.Key)
			ln.Op = OpSet
		}
		if last != nil {
			last[ln.Key] = len(out)
		}
		out = append(out, ln)
	}
	return out
}

// lastIndex finds the last line of out with the given key, through the index last when there
// is one, else by scanning; -1 when there is none.
func lastIndex(out []Line, last map[string]int, key string) int {
	if last != nil {
		if j, ok := last[key]; ok {
			return j
		}
		return -1
	}
	for j := len(out) - 1; j >= 0; j-- {
		if out[j].Key == key {
			return j
		}
	}
	return -1
}
