package config

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/sidecar-voip/sidecar/internal/suggest"
)

// Sentinel errors, matched with errors.Is through *Error.
var (
	// ErrSyntax is a line that is not a [section], a comment or "key = value".
	ErrSyntax = errors.New("syntax error")
	// ErrUnknownSection is a [section] the sidecar does not know.
	ErrUnknownSection = errors.New("unknown section")
	// ErrUnknownKey is a key its section does not have.
	ErrUnknownKey = errors.New("unknown key")
	// ErrDuplicateKey is a key that may appear once, written twice.
	ErrDuplicateKey = errors.New("duplicate key")
)

// Error is one problem in the settings, naming where it is and which key it concerns.
// Load, Parse and Validate return every problem they find, joined with errors.Join; use
// errors.As to get the first *Error.
type Error struct {
	// File is the settings file's name, "" for a Config built in code.
	File string
	// Line is the 1-based line of the key, 0 when unknown (a key left at its default).
	Line int
	// Section is the section name without brackets, "" for a problem outside any section.
	Section string
	// Key is the key name, "" for a problem with a whole section.
	Key string
	// Err is what is wrong, including the bad value.
	Err error

	item int // for a repeatable key: the 1-based value the problem is about, 0 for the key
}

// Error formats the problem as "file:line: [section] key: what is wrong".
func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			b.WriteByte(':')
			b.WriteString(strconv.Itoa(e.Line))
		}
		b.WriteString(": ")
	}
	if e.Section != "" {
		b.WriteString("[" + e.Section + "]")
		if e.Key != "" {
			b.WriteString(" " + e.Key)
		}
		b.WriteString(": ")
	} else if e.Key != "" {
		b.WriteString(e.Key + ": ")
	}
	b.WriteString(e.Err.Error())
	return b.String()
}

// Unwrap returns the underlying problem.
func (e *Error) Unwrap() error { return e.Err }

// joinErrors joins problems into one error, nil when there are none.
func joinErrors(errs []*Error) error {
	if len(errs) == 0 {
		return nil
	}
	out := make([]error, len(errs))
	for i, e := range errs {
		out[i] = e
	}
	return errors.Join(out...)
}

// unknownKey explains an unknown key: a close spelling in the same section, or the section
// the key belongs in.
func unknownKey(specs []keySpec, section, key string) error {
	var same []string
	for _, k := range specs {
		if k.section == section {
			same = append(same, k.name)
		}
	}
	if s := closest(key, same); s != "" {
		return fmt.Errorf("%w %q; did you mean %s?", ErrUnknownKey, key, s)
	}
	for _, k := range specs {
		if k.name == key {
			return fmt.Errorf("%w %q; it belongs in [%s]", ErrUnknownKey, key, k.section)
		}
	}
	return fmt.Errorf("%w %q (keys of [%s]: %s)", ErrUnknownKey, key, section, strings.Join(same, ", "))
}

// unknownSection explains an unknown section.
func unknownSection(name string) error {
	if s := closest(name, sectionNames()); s != "" {
		return fmt.Errorf("%w [%s]; did you mean [%s]?", ErrUnknownSection, name, s)
	}
	return fmt.Errorf("%w [%s] (sections: %s)", ErrUnknownSection, name, strings.Join(sectionNames(), ", "))
}

// closest returns the candidate within a small edit distance of s, or "".
func closest(s string, candidates []string) string {
	best, bestD := "", 3
	if len(s) <= 4 {
		bestD = 2
	}
	for _, c := range candidates {
		d := suggest.Distance(s, c)
		if strings.ReplaceAll(s, "_", "-") == c {
			d = 0
		}
		if d < bestD {
			best, bestD = c, d
		}
	}
	return best
}
