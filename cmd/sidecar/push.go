package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/sidecar-voip/sidecar/templates"
)

// runPush implements "sidecar push -admin URL [-token T | -token-file F] [-ttl D] FILE": it
// PUTs every section of FILE (template dialect) to the admin API as its own pushed template
// and prints one line per section. Exit status: 0 when every push applied, 1 otherwise, 2 on a
// usage error.
func runPush(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("push", flag.ContinueOnError)
	fl.SetOutput(stderr)
	base := fl.String("admin", "http://127.0.0.1:8080", "admin endpoint `URL`")
	token := fl.String("token", "", "bearer `TOKEN` ([admin] token); prefer -token-file")
	tokenFile := fl.String("token-file", "", "`FILE` holding the bearer token")
	ttl := fl.Duration("ttl", 0, "expire the pushed templates after this `DURATION` (0: never)")
	fl.Usage = func() {
		fmt.Fprintln(stderr, "usage: sidecar push -admin URL [-token T | -token-file F] [-ttl D] FILE")
		fl.PrintDefaults()
	}
	if code, ok := parseFlags(fl, args); !ok {
		return code
	}
	if fl.NArg() != 1 {
		fl.Usage()
		return 2
	}
	if *tokenFile != "" {
		b, err := os.ReadFile(*tokenFile)
		if err != nil {
			fmt.Fprintf(stderr, "sidecar push: read token: %v\n", err)
			return 1
		}
		*token = strings.TrimSpace(string(b))
	}
	data, err := os.ReadFile(fl.Arg(0))
	if err != nil {
		fmt.Fprintf(stderr, "sidecar push: %v\n", err)
		return 1
	}
	secs := splitSections(string(data))
	if len(secs) == 0 {
		fmt.Fprintf(stderr, "sidecar push: %s: no [section]\n", fl.Arg(0))
		return 1
	}
	client := &http.Client{Timeout: 30 * time.Second}
	code := 0
	for _, s := range secs {
		u := strings.TrimRight(*base, "/") + "/templates/" + url.PathEscape(s.name)
		if *ttl > 0 {
			u += "?ttl=" + url.QueryEscape(ttl.String())
		}
		status, msg, err := put(client, u, *token, s.text)
		switch {
		case err != nil:
			fmt.Fprintf(stderr, "%s: %v\n", s.name, err)
			code = 1
		case status >= 300:
			fmt.Fprintf(stderr, "%s: %d %s\n", s.name, status, msg)
			code = 1
		default:
			fmt.Fprintf(stdout, "%s: %d %s\n", s.name, status, http.StatusText(status))
		}
	}
	return code
}

// section is one [name] section of a file, with its lines.
type section struct{ name, text string }

// splitSections cuts text at every line starting with "[" (lines before the first are
// dropped); the server parses and checks each part.
func splitSections(text string) []section {
	var out []section
	for _, line := range strings.SplitAfter(text, "\n") {
		t := strings.TrimSpace(line)
		if strings.HasPrefix(t, "[") {
			name := t[1:]
			if i := strings.IndexByte(name, ']'); i >= 0 {
				name = name[:i]
			}
			out = append(out, section{name: strings.TrimSpace(name)})
		}
		if len(out) > 0 {
			out[len(out)-1].text += line
		}
	}
	return out
}

// put sends one template and returns the status and, on an error status, the API's message.
func put(c *http.Client, u, token, text string) (int, string, error) {
	req, err := http.NewRequest(http.MethodPut, u, strings.NewReader(text))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "text/plain; charset=utf-8")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, strings.TrimSpace(string(body)), nil
}

// runTemplates implements "sidecar templates export DIR": it writes the shipped template and
// dialplan files into DIR (created when missing) to start a custom template directory. It
// refuses to overwrite any file. Exit status: 0 on success, 1 on failure, 2 on a usage error.
func runTemplates(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	if len(args) != 2 || args[0] != "export" {
		fmt.Fprintln(stderr, "usage: sidecar templates export DIR")
		return 2
	}
	if err := exportTemplates(templates.FS, args[1]); err != nil {
		fmt.Fprintf(stderr, "sidecar templates export: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "wrote the shipped templates to %s; run: sidecar check -templates %s\n", args[1], args[1])
	return 0
}

// exportTemplates copies every *.conf of fsys into dir, writing nothing when any exists.
func exportTemplates(fsys fs.FS, dir string) error {
	names, err := fs.Glob(fsys, "*.conf")
	if err != nil {
		return err
	}
	for _, n := range names {
		if _, err := os.Lstat(filepath.Join(dir, n)); err == nil {
			return fmt.Errorf("%s exists: nothing written (export into a new directory)", filepath.Join(dir, n))
		} else if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, n := range names {
		b, err := fs.ReadFile(fsys, n)
		if err != nil {
			return err
		}
		f, err := os.OpenFile(filepath.Join(dir, n), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			return err
		}
		_, werr := io.Copy(f, bytes.NewReader(b))
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			return werr
		}
	}
	return nil
}
