package dialplan

import (
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestPatternMatch(t *testing.T) {
	tests := []struct {
		pattern string
		match   []string
		noMatch []string
	}{
		// Literals, with "-" ignored on both sides as in Asterisk.
		{"100", []string{"100", "1-00"}, []string{"1000", "10", ""}},
		{"*97", []string{"*97"}, []string{"*970", "97"}},
		{"s", []string{"s"}, []string{"S", "ss"}},
		// Asterisk's documented examples.
		{"_NXXXXXX", []string{"5551212", "2000000"}, []string{"1551212", "555121", "55512123", "555121a"}},
		{"_1NXXNXXXXXX", []string{"12565551212"}, []string{"11565551212", "12561551212"}},
		{"_9011.", []string{"9011441234", "90114"}, []string{"9011", "901"}},
		{"_NXX-XXXX", []string{"555-1212", "5551212"}, []string{"155-1212"}},
		// Classes, lower case too.
		{"_X", []string{"0", "9"}, []string{"a", "", "10"}},
		{"_Z", []string{"1", "9"}, []string{"0"}},
		{"_N", []string{"2", "9"}, []string{"0", "1"}},
		{"_nxz", []string{"201"}, []string{"200", "101"}},
		// Sets.
		{"_[1-5]", []string{"1", "3", "5"}, []string{"0", "6"}},
		{"_[136-8]X", []string{"10", "39", "60", "70", "80"}, []string{"20", "90", "40"}},
		{"_[a-c-]", []string{"a", "c"}, []string{"d"}}, // trailing "-" is literal, but "-" in data is ignored
		// Wildcards: "." one or more, "!" zero or more.
		{"_X.", []string{"12", "1abc"}, []string{"1", ""}},
		{"_.", []string{"a", "anything"}, []string{""}},
		{"_!", []string{"", "x", "123"}, nil},
		{"_12!", []string{"12", "123"}, []string{"1", "13"}},
		// Other characters are literal.
		{"_*97", []string{"*97"}, []string{"*98", "*970"}},
		{"_*97.", []string{"*971", "*97abc"}, []string{"*97"}},
		{"_vm-.", []string{"vm-1234", "vm1"}, []string{"vm", "vm-", "xm1"}},
		{"_+X.", []string{"+4930"}, []string{"4930"}},
	}
	for _, tc := range tests {
		p, err := ParsePattern(tc.pattern)
		if err != nil {
			t.Fatalf("ParsePattern(%q): %v", tc.pattern, err)
		}
		for _, s := range tc.match {
			if !p.Match(s) {
				t.Errorf("%q does not match %q, want match", tc.pattern, s)
			}
		}
		for _, s := range tc.noMatch {
			if p.Match(s) {
				t.Errorf("%q matches %q, want no match", tc.pattern, s)
			}
		}
	}
}

func TestPatternErrors(t *testing.T) {
	tests := map[string]string{
		"_":       "empty pattern",
		"_--":     "empty pattern",
		"_1[23":   "unclosed [",
		"_[]":     "empty character set []",
		"_[9-1]":  "bad range 9-1 in [9-1]",
		"_X.1":    `"." and "!" must end the pattern`,
		"_!X":     `"." and "!" must end the pattern`,
		"_X]":     "] without [",
		"100/200": `caller-id matching ("/") is not supported`,
		"-":       "empty extension",
		"1 2":     "whitespace in extension",
	}
	for in, want := range tests {
		_, err := ParsePattern(in)
		if err == nil || err.Error() != want {
			t.Errorf("ParsePattern(%q) = %v, want %q", in, err, want)
		}
	}
}

// TestPatternOrder checks the sort of Asterisk's ext_cmp: each list is in match order.
func TestPatternOrder(t *testing.T) {
	tests := [][]string{
		// Asterisk's documented example: the literal, then the more specific pattern.
		{"5551212", "_555XXXX", "_NXXXXXX", "_."},
		// Smaller sets first, position by position.
		{"_2XX", "_NXX", "_XXX"},
		{"_1[2-3].", "_1N.", "_1X."},
		{"_[12]X", "_[13]X"}, // same size: the set with lower characters first
		{"_X.", "_X!"},       // "." before "!"
		{"_12.", "_1X"},      // decided at the second position: 2 before X
		{"_X!", "_X"},        // "!" is more specific than the end of the pattern
		{"100", "_1XX", "_X."},
	}
	for _, want := range tests {
		pats := make([]Pattern, len(want))
		for i := range want {
			// reverse, so a no-op sort fails
			p, err := ParsePattern(want[len(want)-1-i])
			if err != nil {
				t.Fatal(err)
			}
			pats[i] = p
		}
		sort.SliceStable(pats, func(i, j int) bool { return Compare(pats[i], pats[j]) < 0 })
		got := make([]string, len(pats))
		for i, p := range pats {
			got[i] = p.String()
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("order (-want +got):\n%s", diff)
		}
	}
}

// TestMatchOrderInContext checks which extension a dialled number runs, with ties broken by
// definition order.
func TestMatchOrderInContext(t *testing.T) {
	p := compileText(t, `[c]
exten => _X.,1,NoOp(any)
exten => _NXXXXXX,1,NoOp(seven)
exten => _555XXXX,1,NoOp(555)
exten => 5551212,1,NoOp(literal)
exten => _[0-9]5,1,NoOp(first-defined)
exten => _X5,1,NoOp(second-defined)
`)
	tests := map[string]string{
		"5551212": "5551212",
		"5551234": "_555XXXX",
		"6001234": "_NXXXXXX",
		"12":      "_X.",
		"15":      "_[0-9]5",
	}
	for exten, want := range tests {
		got, _, ok := p.Steps("c", exten)
		if !ok || got != want {
			t.Errorf("Steps(c, %s) = %q, %v; want %q", exten, got, ok, want)
		}
	}
	if _, _, ok := p.Steps("c", "1"); ok {
		t.Errorf("Steps(c, 1) matched, want no match")
	}
}
