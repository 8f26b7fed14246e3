package dialect

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// problemStrings returns the errors of err and the warnings of doc as "file:line: message".
func problemStrings(t *testing.T, doc *Doc, err error) (errs, warns []string) {
	t.Helper()
	if err != nil {
		var es Errors
		if !errors.As(err, &es) {
			t.Fatalf("error is %T, want Errors: %v", err, err)
		}
		if len(es) == 0 {
			t.Fatal("Load returned an empty Errors instead of nil")
		}
		for _, e := range es {
			errs = append(errs, e.Error())
		}
	}
	for _, w := range doc.Warnings {
		warns = append(warns, w.Error())
	}
	return errs, warns
}

func TestLoadProblems(t *testing.T) {
	// chain builds files c0.conf .. c<n>.conf, each including the next.
	chain := func(n int) map[string]string {
		m := map[string]string{}
		for i := 0; i < n; i++ {
			m[fmt.Sprintf("c%d.conf", i)] = fmt.Sprintf("#include \"c%d.conf\"\n", i+1)
		}
		m[fmt.Sprintf("c%d.conf", n)] = "[end]\n"
		return m
	}
	tests := []struct {
		name      string
		files     map[string]string
		load      []string // default: "a.conf"
		wantErrs  []string
		wantWarns []string
	}{
		// errors
		{name: "unknown parent", files: map[string]string{"a.conf": "[y](x)\n"},
			wantErrs: []string{`a.conf:1: unknown parent template "x" of [y]`}},
		{name: "inheritance cycle of two", files: map[string]string{"a.conf": "[a](b)\n[b](a)\n"},
			wantErrs: []string{"a.conf:2: inheritance cycle: [a] -> [b] -> [a]"}},
		{name: "inheritance cycle of three", files: map[string]string{"a.conf": "[a](c)\n[b](a)\n[c](b)\n"},
			wantErrs: []string{"a.conf:2: inheritance cycle: [a] -> [c] -> [b] -> [a]"}},
		{name: "inherits from itself", files: map[string]string{"a.conf": "[a](a)\n"},
			wantErrs: []string{"a.conf:1: [a] inherits from itself"}},
		{name: "duplicate section", files: map[string]string{"a.conf": "[a]\n#include \"b.conf\"\n", "b.conf": "[a]\nk = v\n"},
			wantErrs: []string{"b.conf:1: duplicate section [a] (first defined at a.conf:1); use [a](+) to add lines to it"}},
		{name: "missing ]", files: map[string]string{"a.conf": "[a\nk = v\n"},
			wantErrs: []string{"a.conf:1: missing ] in section header [a"}},
		{name: "empty section name", files: map[string]string{"a.conf": "[ ]\nk = v\n"},
			wantErrs: []string{"a.conf:1: empty section name"}},
		{name: "unclosed option list", files: map[string]string{"a.conf": "[a](!,b\n"},
			wantErrs: []string{"a.conf:1: missing ) in option list of [a]"}},
		{name: "empty option name", files: map[string]string{"a.conf": "[b]\n[a](b,)\n[c]()\n"},
			wantErrs: []string{"a.conf:2: empty name in option list of [a]", "a.conf:3: empty name in option list of [c]"}},
		{name: "bad option name", files: map[string]string{"a.conf": "[a](b(c))\n[d](+x)\n"},
			wantErrs:  []string{`a.conf:1: bad name "b(c" in option list of [a]`, `a.conf:2: bad name "+x" in option list of [d]`},
			wantWarns: []string{`a.conf:1: text after ) in [a] is ignored: ")"`}},
		{name: "(+) with other options", files: map[string]string{"a.conf": "[t]\n[a]\n[a](+,t)\n"},
			wantErrs: []string{"a.conf:3: (+) cannot be combined with other options in [a]"}},
		{name: "(+) of a section that does not exist", files: map[string]string{"a.conf": "[a](+)\nk = v\n"},
			wantErrs: []string{"a.conf:1: [a](+) adds to a section that does not exist"}},
		{name: "key outside any section", files: map[string]string{"a.conf": "k => v\n[s]\n"},
			wantErrs: []string{`a.conf:1: key "k" outside any section (add a [section] header first)`}},
		{name: "text outside any section", files: map[string]string{"a.conf": "hello\n"},
			wantErrs: []string{`a.conf:1: text outside any section: "hello"`}},
		{name: "line without =", files: map[string]string{"a.conf": "[s]\nexten 1,1,Answer\n"},
			wantErrs: []string{`a.conf:2: line has no = (want key = value, key => value or key += value): "exten 1,1,Answer"`}},
		{name: "empty key", files: map[string]string{"a.conf": "[s]\n= v\n => v\n+= v\n"},
			wantErrs: []string{`a.conf:2: empty key in "= v"`, `a.conf:3: empty key in "=> v"`, `a.conf:4: empty key in "+= v"`}},
		{name: "include without file name", files: map[string]string{"a.conf": "#include\n#tryinclude \"\"\n"},
			wantErrs: []string{`a.conf:1: #include needs a file name (write #include "file")`, `a.conf:2: #tryinclude needs a file name (write #tryinclude "file")`}},
		{name: "include with unbalanced quotes", files: map[string]string{"a.conf": "#include \"b.conf\n#include b.conf\"\n#include <b.conf\n#include \"\n"},
			wantErrs: []string{
				`a.conf:1: #include "b.conf: unbalanced quotes (write #include "file")`,
				`a.conf:2: #include b.conf": unbalanced quotes (write #include "file")`,
				`a.conf:3: #include <b.conf: unbalanced quotes (write #include "file")`,
				`a.conf:4: #include ": unbalanced quotes (write #include "file")`,
			}},
		{name: "include of a missing file or empty glob", files: map[string]string{"a.conf": "#include \"b.conf\"\n#include \"d/*.conf\"\n#tryinclude \"b.conf\"\n#tryinclude \"d/*.conf\"\n"},
			wantErrs: []string{`a.conf:1: #include "b.conf": file b.conf not found`, `a.conf:2: #include "d/*.conf": no file matches d/*.conf`}},
		{name: "include of a directory", files: map[string]string{"a.conf": "[s]\n#include \"d\"\n#include \"sub/*\"\n", "d/x.conf": "[x]\n", "sub/inner/x.conf": "[never]\n", "sub/y.conf": "[y]\n"},
			wantErrs: []string{"a.conf:2: cannot read d: invalid argument"}},
		{name: "include with absolute path, escaping path, bad pattern", files: map[string]string{"a.conf": "#include \"/etc/x.conf\"\n#include \"../x.conf\"\n#tryinclude \"[x\"\n"},
			wantErrs: []string{
				`a.conf:1: #include "/etc/x.conf": absolute paths are not supported (paths are relative to the including file)`,
				`a.conf:2: #include "../x.conf": path leaves the configuration directory`,
				`a.conf:3: #tryinclude "[x": bad pattern: syntax error in pattern`,
			}},
		{name: "include cycle", files: map[string]string{"a.conf": "[s]\n#include \"b.conf\"\n", "b.conf": "#include \"a.conf\"\n"},
			wantErrs: []string{"b.conf:1: include cycle: a.conf -> b.conf -> a.conf"}},
		{name: "include of itself", files: map[string]string{"a.conf": "#include \"*.conf\"\n"},
			wantErrs: []string{"a.conf:1: include cycle: a.conf -> a.conf"}},
		{name: "include depth limit", files: chain(MaxIncludeDepth + 1), load: []string{"c0.conf"},
			wantErrs: []string{"c10.conf:1: includes nested more than 10 levels deep: c0.conf -> c1.conf -> c2.conf -> c3.conf -> c4.conf -> c5.conf -> c6.conf -> c7.conf -> c8.conf -> c9.conf -> c10.conf -> c11.conf"}},
		{name: "unknown directive", files: map[string]string{"a.conf": "#exec /bin/date\n#\n"},
			wantErrs: []string{"a.conf:1: unknown directive #exec (only #include and #tryinclude are supported)", "a.conf:2: unknown directive # (only #include and #tryinclude are supported)"}},
		{name: "unterminated block comment at its start", files: map[string]string{"a.conf": "[s]\nk = v ;-- open\n;-- nested --;\nnot = seen\n"},
			wantErrs: []string{"a.conf:2: unterminated block comment: ;-- has no matching --;"}},
		{name: "missing file given to Load, invalid path", files: map[string]string{}, load: []string{"missing.conf", "../up.conf"},
			wantErrs: []string{"missing.conf:0: cannot read file: file does not exist", `../up.conf:0: invalid path "../up.conf" (use a slash-separated path relative to the file system root)`}},
		{name: "errors are all collected, in file order", files: map[string]string{
			"a.conf": "k = 1\n#include \"b.conf\"\n[x](nope)\n[x]\n",
			"b.conf": "[s\n"},
			wantErrs: []string{
				`a.conf:1: key "k" outside any section (add a [section] header first)`,
				`a.conf:3: unknown parent template "nope" of [x]`,
				"a.conf:4: duplicate section [x] (first defined at a.conf:3); use [x](+) to add lines to it",
				"b.conf:1: missing ] in section header [s",
			}},

		// warnings
		{name: "space between ] and (", files: map[string]string{"a.conf": "[t](!)\nk = v\n[x] (t)\n"},
			wantWarns: []string{"a.conf:3: space between ] and ( in [x]: Asterisk ignores the option list after a space; it is applied here"}},
		{name: "text after ] and after )", files: map[string]string{"a.conf": "[a] extra\n[b](a) more\n"},
			wantWarns: []string{`a.conf:1: text after ] in [a] is ignored: "extra"`, `a.conf:2: text after ) in [b] is ignored: "more"`}},
		{name: "unbalanced quote in value", files: map[string]string{"a.conf": "[a]\nk = \"abc\nl = abc\"\nm = \"Bob\" <100>\nn = {{ .X | quote }}\n"},
			wantWarns: []string{`a.conf:2: value of k has an unbalanced quote: "abc (quotes are kept as part of the value)`, `a.conf:3: value of l has an unbalanced quote: abc" (quotes are kept as part of the value)`}},
		{name: "+= with no earlier value", files: map[string]string{"a.conf": "[a]\nk += v\nk += w\n"},
			wantWarns: []string{"a.conf:2: k += has no earlier value to extend; it acts as ="}},
		{name: "empty unused template", files: map[string]string{"a.conf": "[t](!)\n[u](!)\n[c](u)\n"},
			wantWarns: []string{"a.conf:1: template [t] has no lines and nothing inherits from it"}},
		{name: "section name with spaces", files: map[string]string{"a.conf": "[my sect]\n[ pad ]\n"},
			wantWarns: []string{
				`a.conf:1: section name "my sect" contains spaces (Asterisk keeps them as part of the name; here they are trimmed at the ends)`,
				`a.conf:2: section name " pad " contains spaces (Asterisk keeps them as part of the name; here they are trimmed at the ends)`,
			}},
		{name: "file included again into another section", files: map[string]string{
			"a.conf": "#include \"c.conf\"\n[x]\n#include \"c.conf\"\n[y]\n#include \"d.conf\"\n", "c.conf": "k = v\n",
			"d.conf": "#include \"c.conf\"\n"},
			wantErrs: []string{`c.conf:1: key "k" outside any section (add a [section] header first)`},
			wantWarns: []string{
				"a.conf:3: c.conf was already read (from a.conf:1), so its lines are not added to [x]: each file is read once",
				"d.conf:1: c.conf was already read (from a.conf:1), so its lines are not added to [y]: each file is read once",
			}},
		{name: "parent listed twice", files: map[string]string{"a.conf": "[t]\n[a](t,t)\n"},
			wantWarns: []string{`a.conf:2: [a] lists parent "t" twice; it is inherited once`}},
		{name: "misspelled parent", files: map[string]string{"a.conf": "[subscriber](!)\nk = v\n[alice](subscrbier)\n"},
			wantErrs: []string{`a.conf:3: unknown parent template "subscrbier" of [alice] (did you mean "subscriber"?)`}},
		{name: "value cut short by ;", files: map[string]string{"a.conf": "[t]\n" +
			"secret = ab;cd\n" + // cut: warned
			"k = v ; a comment\n" + // a comment after a space: fine
			"k2 = v\\;w\n" + // escaped: fine
			"k3 =;nothing\n" + // no value at all: fine
			"; k4 = x;y\n" + // a comment line
			"k5 = {{ .A }};rest\n" + // after a closed action: warned
			"k6 = {{ .A ;b }}\n" + // inside an action: the template reports it
			"exten => 1,1,Answer();c\n"}, // warned
			wantWarns: []string{
				`a.conf:2: the ; after "ab" starts a comment, so the value ends there: write \; for a literal semicolon, or put a space before a ; that starts a comment`,
				`a.conf:7: the ; after "}}" starts a comment, so the value ends there: write \; for a literal semicolon, or put a space before a ; that starts a comment`,
				`a.conf:9: the ; after "1,1,Answer()" starts a comment, so the value ends there: write \; for a literal semicolon, or put a space before a ; that starts a comment`,
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			load := tt.load
			if load == nil {
				load = []string{"a.conf"}
			}
			doc, err := Load(mapFS(tt.files), load...)
			if doc == nil {
				t.Fatal("Load returned a nil Doc")
			}
			errs, warns := problemStrings(t, doc, err)
			if diff := cmp.Diff(tt.wantErrs, errs); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantWarns, warns); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
		})
	}
}

// TestLoadLimits checks that the size bounds answer with an error instead of using memory.
func TestLoadLimits(t *testing.T) {
	tests := []struct {
		name    string
		files   map[string]string
		wantErr string
	}{
		{name: "too many bytes", files: map[string]string{"a.conf": "[s]\nk = " + strings.Repeat("x", MaxInputBytes) + "\n"},
			wantErr: "a.conf:0: cannot read file: input too large: more than 4194304 bytes in total"},
		{name: "too many bytes across includes", files: map[string]string{
			"a.conf": "#include \"b.conf\"\n#include \"c.conf\"\n",
			"b.conf": strings.Repeat(";"+strings.Repeat("x", 1023)+"\n", MaxInputBytes/2048),
			"c.conf": strings.Repeat(";"+strings.Repeat("x", 1023)+"\n", MaxInputBytes/2048+1)},
			wantErr: "a.conf:2: cannot read c.conf: input too large: more than 4194304 bytes in total"},
		{name: "too many lines", files: map[string]string{"a.conf": strings.Repeat("\n", MaxInputLines+1)},
			wantErr: "a.conf:0: cannot read file: input too large: more than 100000 lines in total"},
		{name: "section too wide through diamonds", files: map[string]string{"a.conf": diamonds(16)},
			wantErr: "a.conf:30: [d14] expands to more than 10000 lines through inheritance"},
		{name: "too many resolved lines in total", files: map[string]string{"a.conf": wide(30, 9000)},
			wantErr: "a.conf:9023: inheritance expands the input to more than 200000 lines in total"},
		{name: "+= builds huge values", files: map[string]string{"a.conf": "[s]\nk = x\n" + strings.Repeat("k += "+strings.Repeat("y", 1000)+"\n", 3000)},
			wantErr: "a.conf:185: += builds more than 16777216 bytes of values in total"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := Load(mapFS(tt.files), "a.conf")
			errs, _ := problemStrings(t, doc, err)
			if len(errs) == 0 || errs[0] != tt.wantErr {
				t.Errorf("errors = %q, want first %q", errs, tt.wantErr)
			}
			for _, s := range doc.Sections {
				if len(s.Lines) > MaxSectionLines {
					t.Errorf("[%s] has %d lines, more than MaxSectionLines", s.Name, len(s.Lines))
				}
			}
		})
	}
}

// diamonds returns a chain of n diamonds: each level inherits the previous one twice, so
// level k has 2^k lines without the cap.
func diamonds(n int) string {
	var b strings.Builder
	b.WriteString("[d0]\nk = v\n")
	for i := 1; i < n; i++ {
		fmt.Fprintf(&b, "[l%d](d%d)\n[d%d](l%d,d%d)\n", i, i-1, i, i, i-1)
	}
	return b.String()
}

// wide returns one template of lines lines and n sections inheriting it.
func wide(n, lines int) string {
	var b strings.Builder
	b.WriteString("[t](!)\n")
	for i := 0; i < lines; i++ {
		fmt.Fprintf(&b, "k%d = v\n", i)
	}
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "[s%d](t)\n", i)
	}
	return b.String()
}
