package dialect

import (
	"errors"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
)

// mapFS builds a file system from name/content pairs.
func mapFS(files map[string]string) fstest.MapFS {
	m := fstest.MapFS{}
	for name, text := range files {
		m[name] = &fstest.MapFile{Data: []byte(text)}
	}
	return m
}

// ln builds an expected Line; at is "file:line".
func ln(key string, op Op, value, at, from string) Line {
	file, line, _ := strings.Cut(at, ":")
	n := 0
	for _, c := range line {
		n = n*10 + int(c-'0')
	}
	return Line{Key: key, Op: op, Value: value, Pos: Pos{File: file, Line: n}, From: from}
}

func TestLoadSections(t *testing.T) {
	p := func(f string, l int) Pos { return Pos{File: f, Line: l} }
	tests := []struct {
		name  string
		files map[string]string
		load  []string // default: "a.conf"
		want  []*Section
		warns []string
	}{
		{
			name:  "plain section, operators, trimming",
			files: map[string]string{"a.conf": "[s]\n  k =  v  \nexten => _X.,1,Set(a=b)\nkey = a=>b\nx = a\nx+=y\n\n"},
			want: []*Section{{Name: "s", Pos: p("a.conf", 1), Lines: []Line{
				ln("k", OpSet, "v", "a.conf:2", ""),
				ln("exten", OpArrow, "_X.,1,Set(a=b)", "a.conf:3", ""),
				ln("key", OpSet, "a=>b", "a.conf:4", ""),
				ln("x", OpSet, "ay", "a.conf:5", ""),
			}}},
		},
		{
			name:  "values keep templates, = and > ; repeated keys kept",
			files: map[string]string{"a.conf": "[s]\nv = {{ if eq .A \"b\" }}x=>y{{ end }}\nv = 2\nw=>a=b\n"},
			want: []*Section{{Name: "s", Pos: p("a.conf", 1), Lines: []Line{
				ln("v", OpSet, `{{ if eq .A "b" }}x=>y{{ end }}`, "a.conf:2", ""),
				ln("v", OpSet, "2", "a.conf:3", ""),
				ln("w", OpArrow, "a=b", "a.conf:4", ""),
			}}},
		},
		{
			name: "comments: line, escaped, block nested over lines, ;--- is a line comment",
			files: map[string]string{"a.conf": "[s] ; header comment\n" +
				"a = 1 ; one\n" +
				"b = x\\;y ; real\n" +
				";-- outer ;-- inner --; still\n" +
				"c = hidden\n" +
				"--; d = 4\n" +
				";------- banner\n" +
				"e = 5 ;-- inline --; \n" +
				"f = 6;--x--;7\n"},
			want: []*Section{{Name: "s", Pos: p("a.conf", 1), Lines: []Line{
				ln("a", OpSet, "1", "a.conf:2", ""),
				ln("b", OpSet, "x;y", "a.conf:3", ""),
				ln("d", OpSet, "4", "a.conf:6", ""),
				ln("e", OpSet, "5", "a.conf:8", ""),
				ln("f", OpSet, "67", "a.conf:9", ""),
			}}},
		},
		{
			name: "multi-parent order, chain, abstract, forward reference, From names the writer",
			files: map[string]string{"a.conf": "[c](!,b1,b2)\nown = c\n" +
				"[b1](base)\nx = b1\n[b2]\nx = b2\n[base](!)\nx = base\n"},
			want: []*Section{
				{Name: "c", Abstract: true, Parents: []string{"b1", "b2"}, Pos: p("a.conf", 1), Lines: []Line{
					ln("x", OpSet, "base", "a.conf:8", "base"),
					ln("x", OpSet, "b1", "a.conf:4", "b1"),
					ln("x", OpSet, "b2", "a.conf:6", "b2"),
					ln("own", OpSet, "c", "a.conf:2", ""),
				}},
				{Name: "b1", Parents: []string{"base"}, Pos: p("a.conf", 3), Lines: []Line{
					ln("x", OpSet, "base", "a.conf:8", "base"),
					ln("x", OpSet, "b1", "a.conf:4", ""),
				}},
				{Name: "b2", Pos: p("a.conf", 5), Lines: []Line{ln("x", OpSet, "b2", "a.conf:6", "")}},
				{Name: "base", Abstract: true, Pos: p("a.conf", 7), Lines: []Line{ln("x", OpSet, "base", "a.conf:8", "")}},
			},
		},
		{
			name: "+= extends the inherited value after copying; (+) adds across files in load order",
			files: map[string]string{
				"a.conf": "[t](!)\nallow = ulaw\n[e](t)\nallow += ,g722\nallow += ,opus\n#include \"b.conf\"\n[e](+)\nallow += ,gsm\n",
				"b.conf": "[e](+)\nmore = 1\n",
			},
			want: []*Section{
				{Name: "t", Abstract: true, Pos: p("a.conf", 1), Lines: []Line{ln("allow", OpSet, "ulaw", "a.conf:2", "")}},
				{Name: "e", Parents: []string{"t"}, Pos: p("a.conf", 3), Lines: []Line{
					ln("allow", OpSet, "ulaw,g722,opus,gsm", "a.conf:2", "t"),
					ln("more", OpSet, "1", "b.conf:2", ""),
				}},
			},
		},
		{
			name: "include inlines into the open section; the includer's section continues after it",
			files: map[string]string{
				"a.conf":        "[s]\n#include conf.d/*.conf\nafter = 1\n",
				"conf.d/1.conf": "one = 1\n[t]\nt = 1\n",
				"conf.d/2.conf": "two = 2\n",
			},
			want: []*Section{
				{Name: "s", Pos: p("a.conf", 1), Lines: []Line{
					ln("one", OpSet, "1", "conf.d/1.conf:1", ""),
					ln("two", OpSet, "2", "conf.d/2.conf:1", ""),
					ln("after", OpSet, "1", "a.conf:3", ""),
				}},
				{Name: "t", Pos: p("conf.d/1.conf", 2), Lines: []Line{ln("t", OpSet, "1", "conf.d/1.conf:3", "")}},
			},
		},
		{
			name: "a file reached twice is read once, at its first reach",
			files: map[string]string{
				"a.conf": "#include <b.conf>\n[a]\n#include \"b.conf\"\n",
				"b.conf": "[b]\nk = v\n",
			},
			load: []string{"a.conf", "b.conf", "./a.conf"},
			want: []*Section{
				{Name: "b", Pos: p("b.conf", 1), Lines: []Line{ln("k", OpSet, "v", "b.conf:2", "")}},
				{Name: "a", Pos: p("a.conf", 2)},
			},
			warns: []string{"a.conf:3: b.conf was already read (from a.conf:1), so its lines are not added to [a]: each file is read once"},
		},
		{
			name:  "CRLF line ends and a byte order mark",
			files: map[string]string{"a.conf": "\ufeff[s]\r\nk = v ; c\r\nl => w\r\n"},
			want: []*Section{{Name: "s", Pos: p("a.conf", 1), Lines: []Line{
				ln("k", OpSet, "v", "a.conf:2", ""),
				ln("l", OpArrow, "w", "a.conf:3", ""),
			}}},
		},
		{
			name:  "no files",
			files: map[string]string{},
			load:  []string{},
		},
		{
			name:  "diamond copies the shared ancestor twice, as Asterisk does",
			files: map[string]string{"a.conf": "[r]\nk = r\n[x](r)\n[y](r)\n[d](x,y)\n"},
			want: []*Section{
				{Name: "r", Pos: p("a.conf", 1), Lines: []Line{ln("k", OpSet, "r", "a.conf:2", "")}},
				{Name: "x", Parents: []string{"r"}, Pos: p("a.conf", 3), Lines: []Line{ln("k", OpSet, "r", "a.conf:2", "r")}},
				{Name: "y", Parents: []string{"r"}, Pos: p("a.conf", 4), Lines: []Line{ln("k", OpSet, "r", "a.conf:2", "r")}},
				{Name: "d", Parents: []string{"x", "y"}, Pos: p("a.conf", 5), Lines: []Line{
					ln("k", OpSet, "r", "a.conf:2", "r"),
					ln("k", OpSet, "r", "a.conf:2", "r"),
				}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			load := tt.load
			if load == nil {
				load = []string{"a.conf"}
			}
			doc, err := Load(mapFS(tt.files), load...)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			var warns []string
			for _, w := range doc.Warnings {
				warns = append(warns, w.Error())
			}
			if diff := cmp.Diff(tt.warns, warns); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.want, doc.Sections); diff != "" {
				t.Errorf("sections (-want +got):\n%s", diff)
			}
			for _, s := range tt.want {
				if got := doc.Section(s.Name); got == nil || got.Name != s.Name {
					t.Errorf("Section(%q) = %v", s.Name, got)
				}
			}
		})
	}
}

func TestLoadFilesAndLookup(t *testing.T) {
	fsys := mapFS(map[string]string{
		"main.conf":     "#include \"sub/x.conf\"\n[m]\nk = 1\n",
		"sub/x.conf":    "#tryinclude \"missing.conf\"\n#include \"y.conf\"\n",
		"sub/y.conf":    "[y]\n",
		"other.conf":    "[o](m)\n",
		"sub/none.conf": "[never]\n",
	})
	doc, err := Load(fsys, "main.conf", "other.conf", "sub/y.conf")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"main.conf", "sub/x.conf", "sub/y.conf", "other.conf"}, doc.Files); diff != "" {
		t.Errorf("Files (-want +got):\n%s", diff)
	}
	if doc.Section("never") != nil || doc.Section("nope") != nil {
		t.Error("Section returned a section that was not loaded")
	}
	if got := doc.Section("o").Values("k"); !cmp.Equal(got, []string{"1"}) {
		t.Errorf(`Values("k") = %q`, got)
	}
}

func TestLoadErrorsType(t *testing.T) {
	doc, err := Load(mapFS(map[string]string{"a.conf": "k = v\n[s]\nnope\n"}), "a.conf")
	var es Errors
	if !errors.As(err, &es) || len(es) != 2 {
		t.Fatalf("err = %#v, want Errors with 2 entries", err)
	}
	var e *Error
	if !errors.As(err, &e) || e.Pos != (Pos{File: "a.conf", Line: 1}) {
		t.Errorf("errors.As(*Error) = %v", e)
	}
	if doc == nil || doc.Section("s") == nil {
		t.Error("Load did not return the partial Doc with its errors")
	}
	want := "a.conf:1: key \"k\" outside any section (add a [section] header first)\n" +
		"a.conf:3: line has no = (want key = value, key => value or key += value): \"nope\""
	if err.Error() != want {
		t.Errorf("Error() = %q, want %q", err.Error(), want)
	}
}

// TestFoldLongSection covers the indexed "+=" path used for sections of more than 64 lines.
func TestFoldLongSection(t *testing.T) {
	var b strings.Builder
	b.WriteString("[t](!)\n")
	for i := 0; i < 70; i++ {
		b.WriteString("k" + string(rune('0'+i%5)) + " = v\n")
	}
	b.WriteString("[s](t)\nk2 += x\nnew += y\nnew += z\nk2 += w\n")
	doc, err := Load(mapFS(map[string]string{"a.conf": b.String()}), "a.conf")
	if err != nil {
		t.Fatal(err)
	}
	got := doc.Section("s").Values("k2")
	want := make([]string, 14)
	for i := range want {
		want[i] = "v"
	}
	want[13] = "vxw" // the last k2 line, inherited, extended twice
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("k2 values (-want +got):\n%s", diff)
	}
	if got := doc.Section("s").Values("new"); !cmp.Equal(got, []string{"yz"}) {
		t.Errorf("new = %q, want [yz]", got)
	}
	if got := doc.Section("t").Values("k2"); len(got) != 14 || got[13] != "v" {
		t.Errorf("the template's own lines changed: %q", got)
	}
}
