package dialect

import (
	"errors"
	"io/fs"
)

// MaxIncludeDepth is how deeply #include may nest before Load reports an error.
const MaxIncludeDepth = 10

// Load reads the named files from fsys (paths use forward slashes, as in io/fs), following
// #include and #tryinclude relative to the including file, then resolves inheritance.
// On failure the error is Errors, listing every problem found with its file:line; the Doc is
// still returned with what could be resolved (useful for "sidecar check" to report more).
func Load(fsys fs.FS, files ...string) (*Doc, error) {
	return nil, errors.New("dialect: not implemented yet")
}
