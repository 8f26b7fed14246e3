package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"regexp"
	"strconv"

	"github.com/emiago/sipgo/sip"

	"github.com/sidecar-voip/sidecar/profile"
	"github.com/sidecar-voip/sidecar/request"
)

// maxRenderInput bounds the SIP request render reads.
const maxRenderInput = 64 << 10

// runRender implements "sidecar render [-templates DIR] [-source IP:PORT] [-transport
// udp|tcp|tls] [-show-secrets] FILE|-": it reads one raw SIP request (LF or CRLF line endings),
// applies [template-match], builds the caller's and the callee's profile and prints them as
// JSON. Exit status: 0 on success, 1 when the templates do not load, the request does not
// parse, no party gets a template or a profile fails to build, 2 on a usage error.
func runRender(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("render", flag.ContinueOnError)
	fl.SetOutput(stderr)
	dir := fl.String("templates", "", "`DIR`ectory of template files (default: the shipped templates)")
	source := fl.String("source", "127.0.0.1:5060", "`IP:PORT` the request is taken to come from")
	transport := fl.String("transport", "udp", "transport the request is taken to arrive on: udp, tcp or tls")
	showSecrets := fl.Bool("show-secrets", false, "print mailbox PINs instead of ****")
	fl.Usage = func() {
		fmt.Fprintln(stderr, "usage: sidecar render [-templates DIR] [-source IP:PORT] [-transport udp|tcp|tls] [-show-secrets] FILE|-")
		fl.PrintDefaults()
	}
	if err := fl.Parse(args); err != nil {
		return 2
	}
	if fl.NArg() != 1 {
		fl.Usage()
		return 2
	}
	src, err := netip.ParseAddrPort(*source)
	if err != nil {
		fmt.Fprintf(stderr, "sidecar render: -source %q: want IP:PORT\n", *source)
		return 2
	}
	switch *transport {
	case "udp", "tcp", "tls":
	default:
		fmt.Fprintf(stderr, "sidecar render: -transport %q: want udp, tcp or tls\n", *transport)
		return 2
	}

	raw, err := readInput(fl.Arg(0), stdin)
	if err != nil {
		fmt.Fprintf(stderr, "sidecar render: %v\n", err)
		return 1
	}
	set, errs, _ := checkTemplates(*dir)
	if len(errs) > 0 {
		printDiagnostics(stderr, *dir, errs, nil)
		fmt.Fprintf(stderr, "sidecar render: the templates do not load (run sidecar check)\n")
		return 1
	}
	res, err := renderRequest(renderOptions{
		set: set, raw: raw, source: src, transport: *transport, showSecrets: *showSecrets,
	})
	if err != nil {
		fmt.Fprintf(stderr, "sidecar render: %v\n", err)
		return 1
	}
	out, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		fmt.Fprintf(stderr, "sidecar render: %v\n", err)
		return 1
	}
	stdout.Write(append(out, '\n'))
	return 0
}

// renderOptions is the input of renderRequest.
type renderOptions struct {
	set         *profile.Set
	raw         []byte // the SIP request as written: LF or CRLF line endings
	source      netip.AddrPort
	transport   string
	showSecrets bool
}

// renderResult is what render prints. Fields may be added (the identifier chain, the
// dialplan's decision); null means "no template for this party".
type renderResult struct {
	Caller *renderedProfile `json:"caller"`
	Callee *renderedProfile `json:"callee"`
}

// renderedProfile is a profile as render prints it: the PIN masked unless -show-secrets.
type renderedProfile struct {
	*profile.Profile
	MailboxPIN string `json:"mailbox_pin,omitempty"`
}

// errNoTemplate reports a request for which neither party gets a template.
var errNoTemplate = errors.New("no template matches")

// renderRequest parses the request, applies [template-match] and builds both profiles.
func renderRequest(o renderOptions) (*renderResult, error) {
	req, err := parseRequest(o.raw, o.source, o.transport)
	if err != nil {
		return nil, err
	}
	caller, callee, err := o.set.Select(req)
	if err != nil {
		return nil, err
	}
	if caller.Name == "" && callee.Name == "" {
		return nil, fmt.Errorf("%w: [template-match] names no template for the caller nor for the callee (does the request carry X-Caller-Template or X-Callee-Template?)", errNoTemplate)
	}
	res := &renderResult{}
	for _, side := range []struct {
		m    profile.Match
		role profile.Role
		dst  **renderedProfile
	}{{caller, profile.RoleCaller, &res.Caller}, {callee, profile.RoleCallee, &res.Callee}} {
		if side.m.Name == "" {
			continue
		}
		p, err := o.set.Build(side.m, side.role, req)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", side.role, err)
		}
		rp := &renderedProfile{Profile: p, MailboxPIN: p.MailboxPIN.String()}
		if o.showSecrets {
			rp.MailboxPIN = p.MailboxPIN.Reveal()
		}
		*side.dst = rp
	}
	return res, nil
}

// readInput reads FILE, or stdin for "-", up to maxRenderInput bytes.
func readInput(name string, stdin io.Reader) ([]byte, error) {
	r := stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, fmt.Errorf("read request: %w", err)
		}
		defer f.Close()
		r = f
	}
	raw, err := io.ReadAll(io.LimitReader(r, maxRenderInput+1))
	if err != nil {
		return nil, fmt.Errorf("read request: %w", err)
	}
	if len(raw) > maxRenderInput {
		return nil, fmt.Errorf("read request: larger than %d bytes", maxRenderInput)
	}
	return raw, nil
}

var contentLength = regexp.MustCompile(`(?im)^(content-length|l)[ \t]*:.*$`)

// parseRequest parses a hand-written SIP request: line endings are normalised to CRLF and
// Content-Length is set to the body's length, so files edited by hand parse.
func parseRequest(raw []byte, src netip.AddrPort, transport string) (*request.Request, error) {
	raw = bytes.ReplaceAll(raw, []byte("\r\n"), []byte("\n"))
	raw = bytes.TrimLeft(raw, "\n")
	head, body, _ := bytes.Cut(raw, []byte("\n\n"))
	head = bytes.TrimRight(head, "\n")
	if len(head) == 0 {
		return nil, fmt.Errorf("parse request: empty input")
	}
	body = bytes.ReplaceAll(body, []byte("\n"), []byte("\r\n"))
	head = contentLength.ReplaceAll(head, []byte("Content-Length: "+strconv.Itoa(len(body))))
	msg := bytes.ReplaceAll(head, []byte("\n"), []byte("\r\n"))
	msg = append(msg, "\r\n\r\n"...)
	msg = append(msg, body...)
	m, err := sip.ParseMessage(msg)
	if err != nil {
		return nil, fmt.Errorf("parse request: %w", err)
	}
	sreq, ok := m.(*sip.Request)
	if !ok {
		return nil, fmt.Errorf("parse request: a response, not a request")
	}
	return request.FromSIP(sreq, src, transport)
}
