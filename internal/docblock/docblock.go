// Package docblock finds and rewrites the generated blocks of the Markdown docs, so sample
// outputs come from the real commands (make docs) and tests fail when a sample is stale.
//
// A block is everything between a start marker and the end marker, each alone on a line:
//
//	<!-- make docs: NAME -->
//	```
//	generated text
//	```
//	<!-- /make docs -->
//
// NAME says what generates the block (for instance "sidecar render -source 127.0.0.1:5060
// docs/examples/invite.sip", "first-call" or "push-api put-alice", a sample of docs/push.md);
// the text between the markers is a fenced block whose info string and contents the generator
// owns.
package docblock

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// End is the marker that closes every block.
const End = "<!-- /make docs -->"

// ErrUnclosed reports a start marker without its end marker.
var ErrUnclosed = errors.New("block has no end marker " + End)

var startRE = regexp.MustCompile(`(?m)^<!-- make docs: (.+?) -->\n`)

// Block is one generated block of a document.
type Block struct {
	Name string
	Line int // 1-based line of the start marker
	// Body is the text between the markers, without them.
	Body string
	// start and end are Body's offsets in the document.
	start, end int
}

// Find returns every block of doc in order; file names doc in errors ("file:line: ...").
func Find(file, doc string) ([]Block, error) {
	var out []Block
	for _, m := range startRE.FindAllStringSubmatchIndex(doc, -1) {
		line := strings.Count(doc[:m[0]], "\n") + 1
		body := m[1]
		name := doc[m[2]:m[3]]
		if strings.HasPrefix(doc[body:], End) { // an empty block
			out = append(out, Block{Name: name, Line: line, start: body, end: body})
			continue
		}
		n := strings.Index(doc[body:], "\n"+End)
		if n < 0 {
			return nil, fmt.Errorf("%s:%d: %q: %w", file, line, name, ErrUnclosed)
		}
		end := body + n + 1
		out = append(out, Block{Name: name, Line: line, Body: doc[body:end], start: body, end: end})
	}
	return out, nil
}

// Fence wraps text in a fenced code block with the info string info; text gets a final
// newline if it has none.
func Fence(info, text string) string {
	if !strings.HasSuffix(text, "\n") {
		text += "\n"
	}
	return "```" + info + "\n" + text + "```\n"
}

// Replace returns doc with the body of each block replaced by bodies[i] (blocks as Find
// returned them for doc).
func Replace(doc string, blocks []Block, bodies []string) string {
	var b strings.Builder
	last := 0
	for i, bl := range blocks {
		b.WriteString(doc[last:bl.start])
		b.WriteString(bodies[i])
		last = bl.end
	}
	b.WriteString(doc[last:])
	return b.String()
}
