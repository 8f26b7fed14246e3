package push

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// expiresPrefix starts the first line of a persisted push with an expiry (a dialect
// comment, so the file is also a valid template file).
const expiresPrefix = "; push-expires: "

// fileName is where the push name lives under the push directory.
func fileName(dir, name string) string { return filepath.Join(dir, name+".conf") }

// readDir reads the pushes persisted in dir (created when missing), dropping those expired
// at now (and their files).
func readDir(dir string, now time.Time) (map[string]Entry, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("open push directory: %w", err)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("open push directory: %w", err)
	}
	out := map[string]Entry{}
	for _, de := range ents {
		name, ok := strings.CutSuffix(de.Name(), ".conf")
		if !ok || de.IsDir() || CheckName(name) != nil {
			continue // temporary files of an interrupted write, anything else
		}
		path := filepath.Join(dir, de.Name())
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("read pushed template: %w", err)
		}
		e := Entry{Name: name, Text: string(b)}
		if fi, err := de.Info(); err == nil {
			e.Updated = fi.ModTime()
		}
		if first, rest, ok := strings.Cut(e.Text, "\n"); ok && strings.HasPrefix(first, expiresPrefix) {
			t, err := time.Parse(time.RFC3339Nano, strings.TrimPrefix(first, expiresPrefix))
			if err != nil {
				return nil, fmt.Errorf("read pushed template %s:1: bad expiry: %w", path, err)
			}
			e.Text, e.Expires = rest, t
		}
		if !e.Expires.IsZero() && !now.Before(e.Expires) {
			if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf("remove expired push: %w", err)
			}
			continue
		}
		out[name] = e
	}
	return out, nil
}

// writeEntry writes e under dir atomically: a temporary file in the same directory, fsync,
// rename over the old one, fsync of the directory.
func writeEntry(dir string, e Entry) error {
	data := e.Text
	if !e.Expires.IsZero() {
		data = expiresPrefix + e.Expires.UTC().Format(time.RFC3339Nano) + "\n" + data
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("persist push %s: %w", e.Name, err)
	}
	f, err := os.CreateTemp(dir, "."+e.Name+".*.tmp")
	if err != nil {
		return fmt.Errorf("persist push %s: %w", e.Name, err)
	}
	tmp := f.Name()
	_, werr := f.WriteString(data)
	if werr == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp, fileName(dir, e.Name))
	}
	if werr != nil {
		os.Remove(tmp)
		return fmt.Errorf("persist push %s: %w", e.Name, werr)
	}
	return syncDir(dir)
}

// removeEntry removes the file of name under dir; a missing file is no error.
func removeEntry(dir, name string) error {
	if err := os.Remove(fileName(dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove push %s: %w", name, err)
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync push directory: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync push directory: %w", err)
	}
	return nil
}
