package config

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"

	"gopkg.in/ini.v1"
)

// Load reads and validates the settings file at path. Errors name the path as given.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read settings: %w", err)
	}
	return Parse(path, data)
}

// Parse reads and validates settings from data; name is the file name used in errors. Keys
// not written keep their Default() value, except [rtp] address and bind, which follow
// [sip] listen (see RTP). Parse returns every problem it finds, joined; the Config is nil
// when there is any.
func Parse(name string, data []byte) (*Config, error) {
	idx, errs := scan(name, data)
	if len(errs) > 0 {
		return nil, joinErrors(errs)
	}
	f, err := ini.LoadSources(ini.LoadOptions{
		Insensitive:                true,
		AllowShadows:               true,
		AllowDuplicateShadowValues: true,
		SpaceBeforeInlineComment:   true,
		UnescapeValueDoubleQuotes:  true,
		IgnoreContinuation:         true,
		KeyValueDelimiters:         "=",
	}, data)
	if err != nil {
		return nil, &Error{File: name, Err: fmt.Errorf("%w: %w", ErrSyntax, err)}
	}

	c := Default()
	specs := keySpecs()
	bad := map[string]bool{} // section/key with a reported problem
	written := map[string]bool{}
	report := func(sec, key string, line int, err error) {
		// One *Error per problem: a list value may have several bad items.
		list := []error{err}
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			list = j.Unwrap()
		}
		for _, e := range list {
			errs = append(errs, &Error{File: name, Line: line, Section: sec, Key: key, Err: e})
		}
		bad[sec+"/"+key] = true
	}
	for _, s := range idx.order {
		if !isSection(s) {
			report(s, "", idx.sections[s], unknownSection(s))
		}
	}
	for _, sec := range f.Sections() {
		sname := strings.ToLower(sec.Name())
		if !isSection(sname) {
			continue // reported above; keys outside any section were reported by scan
		}
		for _, k := range sec.Keys() {
			kname := k.Name()
			lines := idx.keys[sname+"/"+kname]
			spec, ok := lookupKey(specs, sname, kname)
			if !ok {
				report(sname, kname, first(lines), unknownKey(specs, sname, kname))
				continue
			}
			written[sname+"/"+kname] = true
			if !spec.repeat {
				if len(lines) > 1 {
					report(sname, kname, lines[1].line, fmt.Errorf("%w: also set on line %d; write it once", ErrDuplicateKey, lines[0].line))
					continue
				}
				if err := spec.apply(c, k.Value()); err != nil { // ini.v1 trims unquoted values
					report(sname, kname, first(lines), err)
				}
				continue
			}
			var full []keyLine
			for _, l := range lines {
				if l.empty {
					report(sname, kname, l.line, errors.New("empty value"))
				} else {
					full = append(full, l)
				}
			}
			for i, v := range k.ValueWithShadows() {
				line := 0
				if i < len(full) {
					line = full[i].line
				}
				if err := spec.apply(c, strings.TrimSpace(v)); err != nil {
					report(sname, kname, line, err)
				}
			}
		}
	}

	c.deriveRTP(written["rtp/address"], written["rtp/bind"])
	for _, e := range c.validate() {
		if bad[e.Section+"/"+e.Key] || (bad["identify/ip"] && errors.Is(e.Err, errNoIPRules)) {
			continue // already reported with the value that caused it
		}
		e.File = name
		lines := idx.keys[e.Section+"/"+e.Key]
		e.Line = first(lines)
		if e.item > 0 && e.item <= len(lines) {
			e.Line = lines[e.item-1].line
		}
		errs = append(errs, e)
	}
	if len(errs) > 0 {
		// File order; problems without a line (from defaults) last.
		slices.SortStableFunc(errs, func(a, b *Error) int {
			return cmp.Compare(lineOrder(a.Line), lineOrder(b.Line))
		})
		return nil, joinErrors(errs)
	}
	return c, nil
}

// deriveRTP fills [rtp] address and bind from [sip] listen when the file did not set them.
func (c *Config) deriveRTP(addressSet, bindSet bool) {
	if !addressSet {
		c.RTP.Address = defaultMediaAddress(c.SIP.Listen)
	}
	if !bindSet {
		c.RTP.Bind = c.RTP.Address
	}
}

func lineOrder(n int) int {
	if n == 0 {
		return math.MaxInt
	}
	return n
}

func isSection(name string) bool {
	for _, s := range sectionNames() {
		if s == name {
			return true
		}
	}
	return false
}

// keyLine is where one key was written.
type keyLine struct {
	line  int
	empty bool // the value is empty (only matters for repeatable keys)
}

func first(lines []keyLine) int {
	if len(lines) == 0 {
		return 0
	}
	return lines[0].line
}

// lineIndex records where each section and key was written, since ini.v1 keeps no positions.
type lineIndex struct {
	sections map[string]int       // section -> first line
	order    []string             // sections in the order first written
	keys     map[string][]keyLine // "section/key" -> lines in order
}

// scan indexes the lines of an ini file and reports lines ini.v1 would misread or reject:
// a line that is neither a comment, a [section] nor "key = value", and keys before the first
// section. Names are lower-cased, as the ini.v1 options in Parse do.
func scan(name string, data []byte) (lineIndex, []*Error) {
	idx := lineIndex{sections: map[string]int{}, keys: map[string][]keyLine{}}
	var errs []*Error
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	section := ""
	for i, raw := range strings.Split(string(data), "\n") {
		n := i + 1
		line := strings.TrimSpace(raw)
		if line == "" || line[0] == ';' || line[0] == '#' {
			continue
		}
		if line[0] == '[' {
			end := strings.IndexByte(line, ']')
			rest := ""
			if end >= 0 {
				rest = strings.TrimSpace(line[end+1:])
			}
			if end < 0 || (rest != "" && rest[0] != ';' && rest[0] != '#') {
				errs = append(errs, &Error{File: name, Line: n, Err: fmt.Errorf("%w: %q is not a [section] line", ErrSyntax, line)})
				continue
			}
			section = strings.ToLower(strings.TrimSpace(line[1:end]))
			if section == "" {
				errs = append(errs, &Error{File: name, Line: n, Err: fmt.Errorf("%w: empty section name", ErrSyntax)})
				continue
			}
			if _, ok := idx.sections[section]; !ok {
				idx.sections[section] = n
				idx.order = append(idx.order, section)
			}
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		key = strings.ToLower(strings.TrimSpace(key))
		if !ok || key == "" {
			errs = append(errs, &Error{File: name, Line: n, Err: fmt.Errorf("%w: %q is not \"key = value\"", ErrSyntax, line)})
			continue
		}
		if section == "" {
			errs = append(errs, &Error{File: name, Line: n, Key: key, Err: errors.New("outside any section; put it under [general], [sip], [identify], [rtp], [admin] or [cdr]")})
			continue
		}
		value = strings.TrimSpace(value)
		empty := value == "" || value[0] == ';' || value[0] == '#' || value == `""`
		idx.keys[section+"/"+key] = append(idx.keys[section+"/"+key], keyLine{line: n, empty: empty})
	}
	return idx, errs
}
