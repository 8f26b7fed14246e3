package dialplan

import (
	"errors"
	"fmt"
	"strings"
)

// Pattern is one extension as written after "exten =>": a literal extension such as "100" or
// "*97", or, with a leading "_", a pattern such as "_NXX" or "_vm-.".
//
// Matching follows Asterisk: X is [0-9], Z is [1-9], N is [2-9] (also in lower case), [...] is a
// set of characters and ranges, "." matches one or more characters and "!" zero or more (both
// only at the end), "-" is ignored in patterns and in dialled extensions, and any other
// character matches itself.
type Pattern struct {
	text  string
	isPat bool
	lit   string // literal extension with "-" removed
	elems []elem // pattern elements with "-" removed
}

type elemKind uint8

const (
	elemSet  elemKind = iota // one character from set
	elemDot                  // ".": one or more of anything
	elemBang                 // "!": zero or more of anything
)

// elem is one position of a pattern.
type elem struct {
	kind elemKind
	set  charSet
	n    int  // number of characters in set
	min  byte // lowest character in set
}

// charSet is a set of bytes; bit 63-(c%64) of word c/64 is c, so comparing the words in order
// compares the sets as Asterisk's memcmp of its bitmaps does.
type charSet [4]uint64

func (s *charSet) add(c byte) bool {
	w, bit := c/64, uint64(1)<<(63-c%64)
	if s[w]&bit != 0 {
		return false
	}
	s[w] |= bit
	return true
}

func (s *charSet) has(c byte) bool { return s[c/64]&(uint64(1)<<(63-c%64)) != 0 }

// Errors in patterns.
var (
	errEmptyPattern = errors.New("empty pattern")
	errUnclosedSet  = errors.New("unclosed [")
	errEmptySet     = errors.New("empty character set []")
	errWildcardEnd  = errors.New(`"." and "!" must end the pattern`)
	errCallerID     = errors.New(`caller-id matching ("/") is not supported`)
)

// ParsePattern parses an extension or an extension pattern.
func ParsePattern(text string) (Pattern, error) {
	p := Pattern{text: text}
	if strings.ContainsRune(text, '/') {
		return p, errCallerID
	}
	if strings.ContainsAny(text, " \t\r\n") {
		return p, errors.New("whitespace in extension")
	}
	if !strings.HasPrefix(text, "_") {
		p.lit = strings.ReplaceAll(text, "-", "")
		if p.lit == "" {
			return p, errors.New("empty extension")
		}
		return p, nil
	}
	p.isPat = true
	s := text[1:]
	for i := 0; i < len(s); i++ {
		c := s[i]
		if len(p.elems) > 0 && p.elems[len(p.elems)-1].kind != elemSet {
			return p, errWildcardEnd
		}
		var e elem
		switch c {
		case '-':
			continue
		case '.':
			e.kind = elemDot
		case '!':
			e.kind = elemBang
		case 'X', 'x':
			e = rangeElem('0', '9')
		case 'Z', 'z':
			e = rangeElem('1', '9')
		case 'N', 'n':
			e = rangeElem('2', '9')
		case '[':
			end := strings.IndexByte(s[i+1:], ']')
			if end < 0 {
				return p, errUnclosedSet
			}
			var err error
			if e, err = parseSet(s[i+1 : i+1+end]); err != nil {
				return p, err
			}
			i += end + 1
		case ']':
			return p, errors.New("] without [")
		default:
			e.set.add(c)
			e.n, e.min = 1, c
		}
		p.elems = append(p.elems, e)
	}
	if len(p.elems) == 0 {
		return p, errEmptyPattern
	}
	return p, nil
}

func rangeElem(lo, hi byte) elem {
	e := elem{min: lo}
	for c := lo; c <= hi; c++ {
		e.set.add(c)
		e.n++
	}
	return e
}

// parseSet parses the inside of [...]: characters and ranges a-d; "-" first or last is literal.
func parseSet(s string) (elem, error) {
	e := elem{min: 0xff}
	if s == "" {
		return e, errEmptySet
	}
	for i := 0; i < len(s); i++ {
		lo, hi := s[i], s[i]
		if i+2 < len(s) && s[i+1] == '-' {
			hi = s[i+2]
			i += 2
			if hi < lo {
				return e, fmt.Errorf("bad range %c-%c in [%s]", lo, hi, s)
			}
		}
		if lo < e.min {
			e.min = lo
		}
		for c := int(lo); c <= int(hi); c++ {
			if e.set.add(byte(c)) {
				e.n++
			}
		}
	}
	return e, nil
}

// String returns the pattern as written.
func (p Pattern) String() string { return p.text }

// IsPattern reports whether the extension is a "_" pattern rather than a literal.
func (p Pattern) IsPattern() bool { return p.isPat }

// Match reports whether the dialled extension exten matches, as Asterisk's E_MATCH.
func (p Pattern) Match(exten string) bool {
	if !p.isPat {
		return stripDash(exten) == p.lit
	}
	i := 0
	for _, e := range p.elems {
		for i < len(exten) && exten[i] == '-' {
			i++
		}
		switch e.kind {
		case elemBang:
			return true
		case elemDot:
			return i < len(exten)
		}
		if i >= len(exten) || !e.set.has(exten[i]) {
			return false
		}
		i++
	}
	for i < len(exten) && exten[i] == '-' {
		i++
	}
	return i == len(exten)
}

func stripDash(s string) string {
	if strings.IndexByte(s, '-') < 0 {
		return s
	}
	return strings.ReplaceAll(s, "-", "")
}

// Scores of pattern positions, from Asterisk's ext_cmp_pattern_pos: a set scores
// count<<8|lowest character; wildcards and the end of the pattern score after every set.
const (
	scoreDot  = 0x18000
	scoreBang = 0x28000
	scoreEnd  = 0x30000
)

func (e elem) score() int {
	switch e.kind {
	case elemDot:
		return scoreDot
	case elemBang:
		return scoreBang
	}
	return e.n<<8 | int(e.min)
}

// Compare orders extensions as Asterisk's ext_cmp does: literal extensions before patterns;
// patterns position by position, a smaller character set (then, for sets of one size, lower
// characters) first, "." after any set, "!" after ".", and a pattern that ends before one that
// goes on. It returns -1, 0 or +1; 0 means equally specific (the first defined wins).
func Compare(a, b Pattern) int {
	switch {
	case !a.isPat && !b.isPat:
		return strings.Compare(a.lit, b.lit)
	case !a.isPat:
		return -1
	case !b.isPat:
		return 1
	}
	for i := 0; ; i++ {
		sa, sb := scoreEnd, scoreEnd
		var ba, bb charSet
		if i < len(a.elems) {
			sa, ba = a.elems[i].score(), a.elems[i].set
		}
		if i < len(b.elems) {
			sb, bb = b.elems[i].score(), b.elems[i].set
		}
		if sa != sb {
			if sa < sb {
				return -1
			}
			return 1
		}
		// Same score: the set holding lower characters sorts first (memcmp(right, left)).
		for w := range bb {
			if ba[w] != bb[w] {
				if ba[w] > bb[w] {
					return -1
				}
				return 1
			}
		}
		if sa == scoreEnd {
			return 0
		}
	}
}
