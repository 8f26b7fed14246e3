package routing

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"

	"github.com/emiago/sipgo/sip"

	"github.com/sidecar-voip/sidecar/dialplan"
	"github.com/sidecar-voip/sidecar/identify"
	"github.com/sidecar-voip/sidecar/profile"
	"github.com/sidecar-voip/sidecar/request"
)

// MaxRenderInput bounds the raw SIP request Render reads.
const MaxRenderInput = 64 << 10

// Sentinel errors of Render.
var (
	// ErrBadRequest reports input that is not one SIP request Render can read (a caller's
	// mistake: an HTTP front answers it 400).
	ErrBadRequest = errors.New("bad request")
	// ErrUntrusted reports a source outside [sip] trusted: nothing else runs.
	ErrUntrusted = errors.New("source not trusted")
	// ErrNoTemplate reports a request for which neither party gets a template.
	ErrNoTemplate = errors.New("no template matches")
)

// RenderInput is one request to explain.
type RenderInput struct {
	// Raw is the SIP request as written: LF or CRLF line endings; Content-Length is
	// recomputed, so a hand-edited request parses. At most MaxRenderInput bytes.
	Raw []byte
	// Source is the address the request is taken to come from.
	Source netip.AddrPort
	// Transport is the transport it is taken to arrive on: "udp", "tcp" or "tls".
	Transport string
	// ShowSecrets prints mailbox PINs and secret dialplan arguments instead of "****".
	ShowSecrets bool
}

// Rendered is what "sidecar render" prints and the admin server's POST /render returns: how
// far the request got through trust, identification, profiles and the dialplan. A null
// profile means "no template for this party".
type Rendered struct {
	// Trusted reports whether [sip] trusted admits the source; nothing else runs when not.
	Trusted  bool             `json:"trusted"`
	Identify *identify.Report `json:"identify,omitempty"`
	Caller   *RenderedProfile `json:"caller"`
	Callee   *RenderedProfile `json:"callee"`
	Dialplan *RenderedPlan    `json:"dialplan,omitempty"`
}

// RenderedProfile is a profile as Render shows it: the PIN masked unless ShowSecrets.
type RenderedProfile struct {
	*profile.Profile
	MailboxPIN string `json:"mailbox_pin,omitempty"`
}

// RenderedPlan is the dialplan's decision: where the call starts and the steps it would run.
type RenderedPlan struct {
	Context   string `json:"context"`
	Exten     string `json:"exten"`
	Extension string `json:"extension,omitempty"` // the matching pattern as written
	// Steps are the matched extension's steps as written: "file:line: priority: App(args)".
	Steps []string `json:"steps,omitempty"`
	// Expanded are the same steps with the arguments expanded for this request (PINs masked
	// unless ShowSecrets), "file:line: priority: App(args)", or "file:line: priority: App:
	// cannot expand: why". No application runs: a variable only an application sets (digits
	// read, TRANSFERSTATUS) expands empty, and jumps are not followed.
	Expanded []string `json:"expanded,omitempty"`
	Answer   string   `json:"answer,omitempty"` // when nothing matches: what the caller gets
}

// Render follows a raw request through b as the SIP service would, with the same Route,
// without running any application. On a failure it returns how far the request got (nil when
// it does not parse) with an error wrapping ErrBadRequest (the input), ErrUntrusted,
// ErrNoTemplate (no identifier matched, or the match names no template), a *sipstatus.Error
// (an identifier rejected the request) or a *BuildError inside a 500 *sipstatus.Error (a
// profile failed).
func Render(ctx context.Context, b *Bundle, in RenderInput) (*Rendered, error) {
	switch in.Transport {
	case "udp", "tcp", "tls":
	default:
		return nil, fmt.Errorf("%w: transport %q: want udp, tcp or tls", ErrBadRequest, in.Transport)
	}
	if len(in.Raw) > MaxRenderInput {
		return nil, fmt.Errorf("%w: read request: larger than %d bytes", ErrBadRequest, MaxRenderInput)
	}
	req, err := ParseRequest(in.Raw, in.Source, in.Transport)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	sipCfg := &b.cfg.SIP
	res := &Rendered{Trusted: sipCfg.Trusted.Allows(in.Source)}
	if !res.Trusted {
		return res, fmt.Errorf("%w: %s is not in [sip] trusted (%s): the request would be %s",
			ErrUntrusted, in.Source, sipCfg.Trusted, untrustedAnswer(sipCfg.Untrusted))
	}
	rt, err := b.Trace(ctx, req)
	report := identify.NewReport(b.chain, rt.Attempts, rt.Match, identifyErr(err), sipCfg.NoMatchCode)
	res.Identify = &report
	res.Caller = renderProfile(rt.Caller, in.ShowSecrets)
	res.Callee = renderProfile(rt.Callee, in.ShowSecrets)
	var be *BuildError
	switch {
	case errors.As(err, &be):
		return res, err
	case errors.Is(err, identify.ErrNoMatch):
		return res, fmt.Errorf("%w: no identifier of [sip] identify = %s matched (answer %d %s)",
			ErrNoTemplate, strings.Join(report.Chain, ", "), report.Status, report.Reason)
	case err != nil:
		return res, fmt.Errorf("%w (answer %d %s)", err, report.Status, report.Reason)
	}
	if rt.Caller == nil && rt.Callee == nil {
		return res, fmt.Errorf("%w: identifier %s names no template for the caller nor for the callee (does the request carry X-Caller-Template or X-Callee-Template?)",
			ErrNoTemplate, rt.Match.Identifier)
	}
	res.Dialplan = renderPlan(rt, in.ShowSecrets)
	return res, nil
}

// identifyErr is err when identification failed, else nil.
func identifyErr(err error) error {
	var be *BuildError
	if errors.As(err, &be) {
		return nil
	}
	return err
}

func renderProfile(p *profile.Profile, showSecrets bool) *RenderedProfile {
	if p == nil {
		return nil
	}
	rp := &RenderedProfile{Profile: p, MailboxPIN: p.MailboxPIN.String()}
	if showSecrets {
		rp.MailboxPIN = profile.RevealSecret(p.MailboxPIN)
	}
	return rp
}

// renderPlan lists what the dialplan would do with the call, as it starts.
func renderPlan(rt Routing, showSecrets bool) *RenderedPlan {
	rp := &RenderedPlan{Context: rt.Context, Exten: rt.Exten}
	matched, steps, ok := rt.Plan.Steps(rt.Context, rt.Exten)
	if !ok {
		rp.Answer = "404 Not Found (no extension matches)"
		return rp
	}
	rp.Extension = matched
	for _, st := range steps {
		rp.Steps = append(rp.Steps, st.Pos.String()+": "+st.String())
	}
	_, expanded, _ := rt.Plan.Expand(rt.Context, rt.Exten, dialplan.DryRun{
		Request: rt.Request, Caller: rt.Caller, Callee: rt.Callee, ShowSecrets: showSecrets,
	})
	for _, es := range expanded {
		if es.Err != nil {
			where := strconv.Itoa(es.Priority)
			if es.Label != "" {
				where += "(" + es.Label + ")"
			}
			rp.Expanded = append(rp.Expanded, fmt.Sprintf("%s: %s: %s: cannot expand: %v", es.Pos, where, es.App, es.Err))
			continue
		}
		rp.Expanded = append(rp.Expanded, es.Pos.String()+": "+es.Step.String())
	}
	return rp
}

func untrustedAnswer(mode string) string {
	if mode == "drop" {
		return "dropped"
	}
	return "answered 403 Forbidden"
}

var contentLength = regexp.MustCompile(`(?im)^(content-length|l)[ \t]*:.*$`)

// ParseRequest parses a hand-written SIP request: line endings are normalised to CRLF and
// Content-Length is set to the body's length, so files edited by hand parse.
func ParseRequest(raw []byte, src netip.AddrPort, transport string) (*request.Request, error) {
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
