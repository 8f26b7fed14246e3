package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/emiago/sipgo/sip"

	"github.com/sidecar-voip/sidecar/config"
	"github.com/sidecar-voip/sidecar/dialplan"
	"github.com/sidecar-voip/sidecar/identify"
	"github.com/sidecar-voip/sidecar/identify/standard"
	"github.com/sidecar-voip/sidecar/profile"
	"github.com/sidecar-voip/sidecar/request"
)

// maxRenderInput bounds the SIP request render reads.
const maxRenderInput = 64 << 10

// runRender implements "sidecar render [-config FILE] [-templates DIR] [-source IP:PORT]
// [-transport udp|tcp|tls] [-show-secrets] FILE|-": it reads one raw SIP request (LF or CRLF
// line endings), checks the source against [sip] trusted, runs the identifier chain of the
// settings, builds the caller's and the callee's profile, picks the dialplan context and
// extension, and prints all of it as JSON. Exit status: 0 on success, 1 when the settings or
// templates do not load, the request does not parse, the source is not trusted, no
// identifier matches (or one rejects the request) or a profile fails to build, 2 on a usage
// error.
func runRender(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("render", flag.ContinueOnError)
	fl.SetOutput(stderr)
	dir := fl.String("templates", "", "`DIR`ectory of template files (default: [general] templates, else the shipped templates)")
	cfgPath := fl.String("config", "", "settings `FILE` (default: the embedded defaults)")
	source := fl.String("source", "127.0.0.1:5060", "`IP:PORT` the request is taken to come from")
	transport := fl.String("transport", "udp", "transport the request is taken to arrive on: udp, tcp or tls")
	showSecrets := fl.Bool("show-secrets", false, "print mailbox PINs instead of ****")
	fl.Usage = func() {
		fmt.Fprintln(stderr, "usage: sidecar render [-config FILE] [-templates DIR] [-source IP:PORT] [-transport udp|tcp|tls] [-show-secrets] FILE|-")
		fl.PrintDefaults()
	}
	if code, ok := parseFlags(fl, args); !ok {
		return code
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
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		fmt.Fprintf(stderr, "sidecar render: %v\n", err)
		return 1
	}
	*dir = templatesDir(*dir, cfg)
	set, errs, _ := checkTemplates(*dir)
	if len(errs) > 0 {
		printDiagnostics(stderr, *dir, errs, nil)
		fmt.Fprintf(stderr, "sidecar render: the templates do not load (run sidecar check)\n")
		return 1
	}
	plan, errs, _ := loadPlan(templateSource(*dir))
	if len(errs) > 0 {
		printDiagnostics(stderr, *dir, errs, nil)
		fmt.Fprintf(stderr, "sidecar render: the dialplan does not load (run sidecar check)\n")
		return 1
	}
	chain, err := standard.Chain(cfg, set)
	if err != nil {
		fmt.Fprintf(stderr, "sidecar render: %v\n", err)
		return 1
	}
	res, err := renderRequest(renderOptions{
		cfg: cfg, set: set, plan: plan, chain: chain,
		raw: raw, source: src, transport: *transport, showSecrets: *showSecrets,
	})
	if res != nil {
		out, merr := json.MarshalIndent(res, "", "  ")
		if merr != nil {
			fmt.Fprintf(stderr, "sidecar render: %v\n", merr)
			return 1
		}
		stdout.Write(append(out, '\n'))
	}
	if err != nil {
		fmt.Fprintf(stderr, "sidecar render: %v\n", err)
		return 1
	}
	return 0
}

// renderOptions is the input of renderRequest.
type renderOptions struct {
	cfg         *config.Config
	set         *profile.Set
	plan        *dialplan.Plan
	chain       *identify.Chain
	raw         []byte // the SIP request as written: LF or CRLF line endings
	source      netip.AddrPort
	transport   string
	showSecrets bool
}

// renderResult is what render prints; a null profile means "no template for this party".
type renderResult struct {
	// Trusted reports whether [sip] trusted admits the source; nothing else runs when not.
	Trusted  bool             `json:"trusted"`
	Identify *identify.Report `json:"identify,omitempty"`
	Caller   *renderedProfile `json:"caller"`
	Callee   *renderedProfile `json:"callee"`
	Dialplan *renderedPlan    `json:"dialplan,omitempty"`
}

// renderedPlan is the dialplan's decision: where the call starts and the steps it would run.
type renderedPlan struct {
	Context   string   `json:"context"`
	Exten     string   `json:"exten"`
	Extension string   `json:"extension,omitempty"` // the matching pattern as written
	Steps     []string `json:"steps,omitempty"`     // "file:line: priority: App(args)"
	Answer    string   `json:"answer,omitempty"`    // when nothing matches: what the caller gets
}

// renderedProfile is a profile as render prints it: the PIN masked unless -show-secrets.
type renderedProfile struct {
	*profile.Profile
	MailboxPIN string `json:"mailbox_pin,omitempty"`
}

// errNoTemplate reports a request for which neither party gets a template.
var errNoTemplate = errors.New("no template matches")

// renderRequest parses the request and follows it as serve would: trust, the identifier
// chain, both profiles, then the dialplan. On a rejection it returns what it has so far with
// the error.
func renderRequest(o renderOptions) (*renderResult, error) {
	req, err := parseRequest(o.raw, o.source, o.transport)
	if err != nil {
		return nil, err
	}
	res := &renderResult{Trusted: o.cfg.SIP.Trusted.Allows(o.source)}
	if !res.Trusted {
		return res, fmt.Errorf("source %s is not in [sip] trusted (%s): the request would be %s", o.source, o.cfg.SIP.Trusted, untrustedAnswer(o.cfg.SIP.Untrusted))
	}
	report, match, err := identify.Describe(context.Background(), o.chain, req, o.cfg.SIP.NoMatchCode)
	res.Identify = &report
	if err != nil {
		if errors.Is(err, identify.ErrNoMatch) {
			return res, fmt.Errorf("%w: no identifier of [sip] identify = %s matched (answer %d %s)", errNoTemplate, strings.Join(report.Chain, ", "), report.Status, report.Reason)
		}
		return res, fmt.Errorf("identify: %v (answer %d %s)", err, report.Status, report.Reason)
	}
	caller, callee := match.Caller, match.Callee
	if caller.Name == "" && callee.Name == "" {
		return res, fmt.Errorf("%w: identifier %s names no template for the caller nor for the callee (does the request carry X-Caller-Template or X-Callee-Template?)", errNoTemplate, match.Identifier)
	}
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
			rp.MailboxPIN = profile.RevealSecret(p.MailboxPIN)
		}
		*side.dst = rp
	}
	res.Dialplan = describePlan(o.plan, res, o.cfg.SIP.DefaultContext, req.RURI.User)
	return res, nil
}

// describePlan lists what the dialplan would do with the call, as serve would start it.
func describePlan(plan *dialplan.Plan, res *renderResult, def, exten string) *renderedPlan {
	var caller, callee *profile.Profile
	if res.Caller != nil {
		caller = res.Caller.Profile
	}
	if res.Callee != nil {
		callee = res.Callee.Profile
	}
	rp := &renderedPlan{Context: dialplan.ContextFor(caller, callee, def), Exten: exten}
	matched, steps, ok := plan.Steps(rp.Context, exten)
	if !ok {
		rp.Answer = "404 Not Found (no extension matches)"
		return rp
	}
	rp.Extension = matched
	for _, st := range steps {
		rp.Steps = append(rp.Steps, st.Pos.String()+": "+st.String())
	}
	return rp
}

func untrustedAnswer(mode string) string {
	if mode == "drop" {
		return "dropped"
	}
	return "answered 403 Forbidden"
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
