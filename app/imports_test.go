package app_test

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestAppsUseOnlyTheMediaContract: the applications reach audio through package media
// (dialplan.Call.Audio), never through the media plane: no file of app or its subpackages,
// tests aside, imports package rtp or one of its subpackages.
func TestAppsUseOnlyTheMediaContract(t *testing.T) {
	const rtp = "github.com/sidecar-voip/sidecar/rtp"
	files := 0
	err := filepath.WalkDir(".", func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		files++
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if p == rtp || strings.HasPrefix(p, rtp+"/") {
				t.Errorf("%s imports %s: apps use package media", path, p)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 5 {
		t.Fatalf("only %d files checked", files)
	}
}
