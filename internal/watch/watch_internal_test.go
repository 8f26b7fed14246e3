package watch

import (
	"path/filepath"
	"testing"
)

// Which changes count: the watched file and its directory's ConfigMap link, anything in a
// tree but editors' and tools' temporary files.
func TestRelevant(t *testing.T) {
	root := t.TempDir()
	ini := filepath.Join(root, "etc", "sidecar.ini")
	tree := filepath.Join(root, "templates")
	m := newMatcher(Options{Dirs: []string{tree}, Files: []string{ini}})
	for p, want := range map[string]bool{
		ini:                                     true,
		filepath.Join(root, "etc", "..data"):    true,
		filepath.Join(root, "etc", "other.ini"): false,
		filepath.Join(tree, "users.conf"):       true,
		filepath.Join(tree, "sub", "inc.conf"):  true,
		filepath.Join(tree, "extensions.conf"):  true,
		filepath.Join(tree, ".users.conf.swp"):  false,
		filepath.Join(tree, "users.conf~"):      false,
		filepath.Join(tree, "4913"):             false,
		filepath.Join(tree, "users.conf.bak"):   false,
		filepath.Join(root, "templates-old"):    false,
		tree:                                    true,
	} {
		if got := m.relevant(p); got != want {
			t.Errorf("relevant(%s) = %v, want %v", p, got, want)
		}
	}
}
