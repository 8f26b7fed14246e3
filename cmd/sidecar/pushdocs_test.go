package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sidecar-voip/sidecar/admin"
	"github.com/sidecar-voip/sidecar/config"
	"github.com/sidecar-voip/sidecar/internal/docblock"
	"github.com/sidecar-voip/sidecar/push"
	"github.com/sidecar-voip/sidecar/routing"
)

// pushDocToken is the token of docs/push.md's examples (its T=... line).
const pushDocToken = "s3cret-token-0123456789"

// pushDocClock is the clock of the admin server behind docs/push.md's samples, so the
// "updated" and "expires" times of a push are the same at every run.
var pushDocClock = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// pushDocRequest is one curl command of docs/push.md: the test sends it and the sample shows
// the command (built from these fields, so it cannot say something else) and what curl prints.
type pushDocRequest struct {
	method string
	path   string // with the query, after "$A"
	token  bool   // -H "$T"
	json   bool   // -H 'Content-Type: application/json', the body with -d
	// body is the request's body; "@FILE" is FILE under the repository root (--data-binary @FILE).
	body string
	// code is the status the request must get; showCode adds curl's -w '%{http_code}\n', so the
	// sample shows it after the body.
	code     int
	showCode bool
	// elide, when set, is a top-level array field of the JSON answer that the sample cuts to
	// its last keep elements (elideArray), so a long answer stays readable.
	elide string
	keep  int
}

// pushDocSamples are the "<!-- make docs: push-api NAME -->" blocks of docs/push.md, in the
// order they appear there and run: one admin server takes every request in turn, so a block
// sees the pushes of the blocks before it.
var pushDocSamples = []struct {
	name     string
	requests []pushDocRequest
}{
	{"put-alice", []pushDocRequest{{
		method: "PUT", path: "/templates/alice?ttl=300s", token: true,
		body: "[alice](subscriber)\ncodecs = g722, pcmu\nmailbox-id = 1000\nmailbox-pin = 4321\n", code: 201,
	}}},
	{"put-invalid", []pushDocRequest{{
		method: "PUT", path: "/templates/alice", token: true, body: "[alice](subscriber)\ncodecs = g7222\n", code: 400,
	}}},
	{"json-patch", []pushDocRequest{{
		method: "PUT", path: "/templates/bob", token: true, json: true,
		body: `{"parents":["subscriber"],"fields":{"codecs":"pcma","mailbox-id":"2000"}}`, code: 201,
	}, {
		method: "PATCH", path: "/templates/bob", token: true, json: true,
		body: `{"fields":{"codecs":"g722","mailbox-id":null}}`, code: 200,
	}}},
	{"read", []pushDocRequest{
		{method: "GET", path: "/templates", token: true, code: 200, elide: "templates", keep: 3},
		{method: "GET", path: "/templates/alice", token: true, code: 200, elide: "lines", keep: 4},
	}},
	{"refusals", []pushDocRequest{
		{method: "GET", path: "/templates", code: 401, showCode: true},
		{method: "PUT", path: "/templates/subscriber", token: true, body: "mwi = no", code: 409, showCode: true},
		{method: "DELETE", path: "/templates/bob", token: true, code: 204, showCode: true},
	}},
	{"render", []pushDocRequest{{
		method: "POST", path: "/render?source=127.0.0.1:5060", token: true, body: "@examples/push-invite.sip", code: 200,
	}}},
}

// pushDocPrefix starts the name of every block this test owns.
const pushDocPrefix = "push-api "

// Every "<!-- make docs: push-api NAME -->" block of docs/push.md holds the curl command(s) of
// pushDocSamples[NAME] and what the real admin server answered them: the template API over
// the shipped templates (the same loading as serve), with a token and a fixed clock, on a
// real listener. -update-docs (make docs) rewrites them; without it a stale sample fails.
func TestPushDocSamples(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	const rel = "docs/push.md"
	b, err := os.ReadFile(filepath.Join(root, rel))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	if want := "`T='Authorization: Bearer " + pushDocToken + "'`"; !strings.Contains(doc, want) {
		t.Errorf("%s does not define %s, the token of its samples", rel, want)
	}
	blocks, err := docblock.Find(rel, doc)
	if err != nil {
		t.Fatal(err)
	}
	var ours []string
	for _, bl := range blocks {
		if name, ok := strings.CutPrefix(bl.Name, pushDocPrefix); ok {
			ours = append(ours, name)
		}
	}
	var names []string
	for _, s := range pushDocSamples {
		names = append(names, s.name)
	}
	if diff := cmp.Diff(names, ours); diff != "" {
		t.Fatalf("%s: the %q blocks are not the samples of this test, in order (-test +doc):\n%s", rel, pushDocPrefix, diff)
	}

	url := startPushDocServer(t)
	generated := map[string]string{}
	for _, s := range pushDocSamples {
		var out strings.Builder
		for _, rq := range s.requests {
			out.WriteString("$ " + rq.curl() + "\n")
			out.WriteString(rq.do(t, url, root))
		}
		generated[s.name] = docblock.Fence("console", out.String())
	}

	bodies := make([]string, len(blocks))
	for i, bl := range blocks {
		bodies[i] = bl.Body
		name, ok := strings.CutPrefix(bl.Name, pushDocPrefix)
		if !ok {
			continue
		}
		bodies[i] = generated[name]
		if !*updateDocs && bodies[i] != bl.Body {
			t.Errorf("%s:%d: the sample %q is stale; run make docs (-doc +today):\n%s",
				rel, bl.Line, bl.Name, cmp.Diff(bl.Body, bodies[i]))
		}
	}
	if *updateDocs {
		if out := docblock.Replace(doc, blocks, bodies); out != doc {
			if err := os.WriteFile(filepath.Join(root, rel), []byte(out), 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("rewrote %s", rel)
		}
	}
}

// startPushDocServer serves the admin endpoint as serve does with [admin] token set: the push
// store over the shipped templates (loadOptions, as serve) is the template API, on 127.0.0.1:0,
// its clock at pushDocClock. It returns the base URL; the cleanup stops the server.
func startPushDocServer(t *testing.T) string {
	t.Helper()
	opts, err := loadOptions(config.Default(), "", nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	bundle, diag := routing.Load(opts)
	if err := diag.Err(); err != nil {
		t.Fatal(err)
	}
	clock := func() time.Time { return pushDocClock }
	store := push.New(push.Options{Rebuilder: push.NewLiveRebuilder(opts, routing.NewLive(bundle)), Now: clock})
	srv := admin.New(admin.Options{Token: pushDocToken, Routing: store, Push: store, Now: clock, Start: pushDocClock})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("admin Serve: %v", err)
		}
	})
	return "http://" + ln.Addr().String()
}

// curl is the command line of the request, as the sample shows it after "$ ".
func (rq pushDocRequest) curl() string {
	args := []string{"curl", "-s"}
	if rq.showCode {
		args = append(args, `-w '%{http_code}\n'`)
	}
	// curl sends GET without a body and POST with one; -X says anything else.
	if !(rq.method == "GET" && rq.body == "") && !(rq.method == "POST" && rq.body != "") {
		args = append(args, "-X "+rq.method)
	}
	if rq.token {
		args = append(args, `-H "$T"`)
	}
	if rq.json {
		args = append(args, `-H 'Content-Type: application/json'`)
	}
	var data string
	switch {
	case rq.body == "":
	case strings.HasPrefix(rq.body, "@"):
		data = "--data-binary " + rq.body
	case rq.json:
		data = "-d " + shellQuote(rq.body)
	default:
		data = "--data-binary " + shellQuote(rq.body)
	}
	url := `"$A` + rq.path + `"`
	line := strings.Join(args, " ")
	switch {
	case data == "":
		return line + " " + url
	case len(line)+len(data)+len(url)+2 <= 100:
		return line + " " + data + " " + url
	}
	return line + " \\\n    " + data + " " + url // long: the data on its own line
}

// shellQuote quotes s for a POSIX shell: '...' when it fits, else bash's $'...' (newlines).
func shellQuote(s string) string {
	if !strings.ContainsAny(s, "\n'\\") {
		return "'" + s + "'"
	}
	r := strings.NewReplacer(`\`, `\\`, `'`, `\'`, "\n", `\n`)
	return "$'" + r.Replace(s) + "'"
}

// do sends the request to the server at url as curl would (curl's Content-Type for a body
// without -H, the file of "@FILE" under root) and returns what curl prints: the body, and the
// status when showCode. It fails the test when the status is not rq.code.
func (rq pushDocRequest) do(t *testing.T, url, root string) string {
	t.Helper()
	body := rq.body
	if file, ok := strings.CutPrefix(body, "@"); ok {
		b, err := os.ReadFile(filepath.Join(root, file))
		if err != nil {
			t.Fatal(err)
		}
		body = string(b)
	}
	req, err := http.NewRequest(rq.method, url+rq.path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	switch {
	case rq.json:
		req.Header.Set("Content-Type", "application/json")
	case body != "":
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded") // curl's default for data
	}
	if rq.token {
		req.Header.Set("Authorization", "Bearer "+pushDocToken)
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != rq.code {
		t.Errorf("%s %s: %d %s, want %d", rq.method, rq.path, resp.StatusCode, b, rq.code)
	}
	out := string(b)
	if rq.elide != "" {
		if out, err = elideArray(out, rq.elide, rq.keep); err != nil {
			t.Fatalf("%s %s: %v", rq.method, rq.path, err)
		}
	}
	if rq.showCode {
		out += fmt.Sprintf("%d\n", resp.StatusCode) // right after the body, as curl -w prints it
	}
	if out != "" && !strings.HasSuffix(out, "\n") {
		out += "\n" // the next prompt starts a line of its own
	}
	return out
}

// elideArray cuts the top-level array field key of an indented JSON object (json.MarshalIndent
// with two spaces, as the admin API writes it) to its last keep elements, one "    ..." line
// standing for the others. It fails when body has no such field.
func elideArray(body, key string, keep int) (string, error) {
	lines := strings.Split(body, "\n")
	open := slices.Index(lines, `  "`+key+`": [`)
	if open < 0 {
		return "", fmt.Errorf("elide %q: no such array field in\n%s", key, body)
	}
	var starts []int // the first line of each element
	for i := open + 1; i < len(lines); i++ {
		l := lines[i]
		if strings.HasPrefix(l, "  ]") {
			break
		}
		if strings.HasPrefix(l, "    ") && !strings.HasPrefix(l, "     ") &&
			!strings.HasPrefix(l, "    }") && !strings.HasPrefix(l, "    ]") {
			starts = append(starts, i)
		}
	}
	if len(starts) <= keep {
		return body, nil
	}
	cut := starts[len(starts)-keep]
	out := slices.Concat(lines[:open+1], []string{"    ..."}, lines[cut:])
	return strings.Join(out, "\n"), nil
}

func TestElideArray(t *testing.T) {
	body := "{\n  \"a\": [\n    {\n      \"k\": 1\n    },\n    \"two\",\n    {\n      \"k\": 3\n    }\n  ],\n  \"b\": 1\n}\n"
	got, err := elideArray(body, "a", 2)
	if err != nil {
		t.Fatal(err)
	}
	want := "{\n  \"a\": [\n    ...\n    \"two\",\n    {\n      \"k\": 3\n    }\n  ],\n  \"b\": 1\n}\n"
	if got != want {
		t.Errorf("elideArray:\n%s\nwant:\n%s", got, want)
	}
	if got, _ := elideArray(body, "a", 3); got != body {
		t.Errorf("keep 3 of 3 changed the body:\n%s", got)
	}
	if _, err := elideArray(body, "b", 1); err == nil {
		t.Error("elideArray of a field that is not an array: no error")
	}
}
