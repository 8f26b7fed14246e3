package profile

import (
	"fmt"
	"strings"

	"github.com/sidecar-voip/sidecar/media/codecs"
)

// The codec names, their spellings and the default list (a profile whose templates set no
// codecs, allow or disallow line) are package media/codecs' table.

// canonicalCodec returns the canonical name of a codec spelling.
func canonicalCodec(name string) (string, error) {
	c, ok := codecs.Canonical(name)
	if !ok {
		return "", fmt.Errorf("unknown codec %s (known: %s; aliases ulaw, alaw, ...)", quote(name), strings.Join(codecs.Names(), ", "))
	}
	return c, nil
}

// splitList splits a comma-separated list, trimming items and dropping empty ones.
func splitList(s string) []string {
	var out []string
	for item := range strings.SplitSeq(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// setCodecs implements "codecs = a,b": the list replaces the current one.
func setCodecs(_ []string, value string) ([]string, error) {
	out := []string{}
	for _, item := range splitList(value) {
		if item == "all" || strings.HasPrefix(item, "!") {
			return nil, fmt.Errorf("%s is only meaningful in allow/disallow; codecs takes plain codec names", quote(item))
		}
		c, err := canonicalCodec(item)
		if err != nil {
			return nil, err
		}
		out = appendMissing(out, c)
	}
	return out, nil
}

// allowDisallow implements Asterisk's allow/disallow on the current list: "all" adds every
// known codec (allow) or clears the list (disallow); a "!" prefix inverts the line's sense, so
// "allow = !all" clears the list and "allow = !g729" removes g729. Allowed codecs are appended
// when missing; disallowed ones are removed.
func allowDisallow(cur []string, value string, allow bool) ([]string, error) {
	items := splitList(value)
	if len(items) == 0 {
		return nil, fmt.Errorf("empty codec list")
	}
	for _, item := range items {
		allowing := allow
		if name, ok := strings.CutPrefix(item, "!"); ok {
			allowing, item = !allow, name
		}
		if strings.EqualFold(item, "all") {
			if allowing {
				for _, c := range codecs.Names() {
					cur = appendMissing(cur, c)
				}
			} else {
				cur = cur[:0]
			}
			continue
		}
		c, err := canonicalCodec(item)
		if err != nil {
			return nil, err
		}
		if allowing {
			cur = appendMissing(cur, c)
		} else {
			cur = removeCodec(cur, c)
		}
	}
	return cur, nil
}

func appendMissing(list []string, c string) []string {
	for _, x := range list {
		if x == c {
			return list
		}
	}
	return append(list, c)
}

func removeCodec(list []string, c string) []string {
	out := list[:0]
	for _, x := range list {
		if x != c {
			out = append(out, x)
		}
	}
	return out
}
