package admin

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/netip"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sidecar-voip/sidecar/sipsvc"
)

// The status page at "/": one server-rendered HTML page (page.html) and its stylesheet
// under /static/, both embedded. No script runs in the browser; the render form is a plain
// POST to "/" answered with the same page and the result.

//go:embed page.html
var pageHTML string

//go:embed static
var staticFiles embed.FS

var pageTmpl = template.Must(template.New("page").Parse(pageHTML))

// maxFormBytes bounds a POST to "/": the request text (render reads at most 64 KiB) plus the
// other fields and the form encoding's escapes.
const maxFormBytes = 256 << 10

// renderTimeout bounds one render from the form.
const renderTimeout = 5 * time.Second

// CallSource lists the live calls for the status page; *sipsvc.Server implements it.
type CallSource interface {
	ActiveCalls() []sipsvc.CallInfo
}

// TemplateInfo is one loaded template and where its section starts ("file:line").
type TemplateInfo struct {
	Name string
	Pos  string
}

// Event is one recent error of a template reload or a configuration push.
type Event struct {
	Time time.Time
	// Kind is what failed: "reload" or "push".
	Kind    string
	Message string
}

// EventSource reports the recent reload and push errors, newest first, a bounded number
// (serve merges routing.Reloader's and push.Store's). The page shows "none" when there are
// none.
type EventSource interface {
	RecentErrors() []Event
}

// RenderFunc explains a raw SIP request as "sidecar render" does: src and transport are
// where the request is taken to come from. It returns the value render prints as JSON
// (trusted, identify, caller, callee, dialplan), possibly partial, and the error that
// stopped it. Secrets in the value must already be masked.
type RenderFunc func(ctx context.Context, raw []byte, src netip.AddrPort, transport string) (any, error)

// sampleRequest fills the render form at first: a subscriber calling the echo test, as
// Kamailio would send it (the shipped templates answer it).
const sampleRequest = `INVITE sip:*43@127.0.0.1:5080 SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:5090;branch=z9hG4bK-page-1
Max-Forwards: 70
From: <sip:1001@example.com>;tag=page1
To: <sip:*43@example.com>
Call-ID: page-render-1@127.0.0.1
CSeq: 1 INVITE
Contact: <sip:1001@127.0.0.1:5090>
X-Caller-Template: caller-endpoint
Content-Length: 0

`

// pageData is everything page.html shows.
type pageData struct {
	Version  string
	Now      string
	Uptime   string
	Draining bool

	Calls     []callRow
	Templates []TemplateInfo
	Errors    []eventRow
	Counters  []figure
	Rejected  []figure

	RenderEnabled bool
	Form          renderForm
	Result        *renderView
}

type callRow struct {
	CallID, Source, Started, Age, State, Caller, Callee, Context string
}

type eventRow struct {
	Time, Kind, Message string
}

type figure struct {
	Name  string
	Value string
}

type renderForm struct {
	Request, Source, Transport string
}

// renderView is one render's result: the error that stopped it (if any) and each top-level
// field of the JSON render prints, pretty-printed, in render's order.
type renderView struct {
	Error    string
	Trusted  string // "yes", "no" or "" when the request did not parse
	Sections []section
}

type section struct {
	Key, Title, JSON string
}

// sectionTitles names render's fields in the order it prints them.
var sectionTitles = []struct{ key, title string }{
	{"trusted", "Trust"},
	{"identify", "Identification"},
	{"caller", "Caller profile"},
	{"callee", "Callee profile"},
	{"dialplan", "Dialplan path"},
}

// page answers GET "/" with the status page, and POST "/" with the page and the render of
// the submitted request.
func (s *Server) page(w http.ResponseWriter, r *http.Request) {
	d := s.pageData()
	d.Form = renderForm{Request: sampleRequest, Source: "127.0.0.1:5090", Transport: "udp"}
	code := http.StatusOK
	if r.Method == http.MethodPost {
		code = s.renderPost(w, r, &d)
	}
	var b bytes.Buffer
	if err := pageTmpl.Execute(&b, &d); err != nil {
		panic(fmt.Errorf("execute page template: %w", err)) // recoverPanic answers 500
	}
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	write(w, code, "text/html; charset=utf-8", b.Bytes())
}

// renderPost reads the form into d.Form, runs the render and stores its view in d.Result.
// It returns the page's status: 200, 400 for a form that cannot be read.
func (s *Server) renderPost(w http.ResponseWriter, r *http.Request, d *pageData) int {
	if r.Body == nil {
		r.Body = http.NoBody
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		d.Result = &renderView{Error: "read form: " + err.Error()}
		return http.StatusBadRequest
	}
	d.Form = renderForm{
		Request:   r.PostForm.Get("request"),
		Source:    strings.TrimSpace(r.PostForm.Get("source")),
		Transport: r.PostForm.Get("transport"),
	}
	if s.opts.Render == nil {
		d.Result = &renderView{Error: "render is not available on this server"}
		return http.StatusOK
	}
	src, err := netip.ParseAddrPort(d.Form.Source)
	if err != nil {
		d.Result = &renderView{Error: fmt.Sprintf("source %q: want IP:PORT", d.Form.Source)}
		return http.StatusBadRequest
	}
	switch d.Form.Transport {
	case "udp", "tcp", "tls":
	default:
		d.Result = &renderView{Error: fmt.Sprintf("transport %q: want udp, tcp or tls", d.Form.Transport)}
		return http.StatusBadRequest
	}
	ctx, cancel := context.WithTimeout(r.Context(), renderTimeout)
	defer cancel()
	res, rerr := s.opts.Render(ctx, []byte(d.Form.Request), src, d.Form.Transport)
	d.Result = viewOf(res, rerr)
	return http.StatusOK
}

// viewOf splits render's JSON value into the page's sections.
func viewOf(res any, rerr error) *renderView {
	v := &renderView{}
	if rerr != nil {
		v.Error = rerr.Error()
	}
	if res == nil {
		return v
	}
	raw, err := json.Marshal(res)
	if err != nil {
		v.Error = errors.Join(rerr, fmt.Errorf("encode render result: %w", err)).Error()
		return v
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil || fields == nil {
		return v // null (a typed nil): nothing to show beyond the error
	}
	switch string(fields["trusted"]) {
	case "true":
		v.Trusted = "yes"
	case "false":
		v.Trusted = "no"
	}
	add := func(key, title string) {
		var b bytes.Buffer
		if string(fields[key]) == "null" {
			b.WriteString("none") // a party without a template
		} else if err := json.Indent(&b, fields[key], "", "  "); err != nil {
			b.Reset()
			b.Write(fields[key])
		}
		v.Sections = append(v.Sections, section{Key: key, Title: title, JSON: b.String()})
		delete(fields, key)
	}
	for _, st := range sectionTitles {
		if _, ok := fields[st.key]; ok {
			add(st.key, st.title)
		}
	}
	rest := make([]string, 0, len(fields))
	for k := range fields {
		rest = append(rest, k)
	}
	slices.Sort(rest)
	for _, k := range rest {
		add(k, k)
	}
	return v
}

// pageData reads every source once.
func (s *Server) pageData() pageData {
	now := s.opts.Now()
	d := pageData{
		Version: s.opts.Version,
		Now:     now.UTC().Format(time.RFC3339),
		Uptime:  max(now.Sub(s.opts.Start), 0).Truncate(time.Second).String(),

		RenderEnabled: s.opts.Render != nil,
	}
	if s.opts.Calls != nil {
		for _, c := range s.opts.Calls.ActiveCalls() {
			d.Calls = append(d.Calls, callRow{
				CallID: c.CallID, Source: c.Source.String(), State: c.State,
				Started: c.Start.UTC().Format(time.RFC3339),
				Age:     max(now.Sub(c.Start), 0).Truncate(time.Second).String(),
				Caller:  c.CallerTemplate, Callee: c.CalleeTemplate, Context: c.Context,
			})
		}
	}
	if s.opts.Templates != nil {
		d.Templates = s.opts.Templates()
	}
	if s.opts.Errors != nil {
		for _, e := range s.opts.Errors.RecentErrors() {
			d.Errors = append(d.Errors, eventRow{Time: e.Time.UTC().Format(time.RFC3339), Kind: e.Kind, Message: e.Message})
		}
	}
	u := func(v uint64) string { return strconv.FormatUint(v, 10) }
	i := func(v int64) string { return strconv.FormatInt(v, 10) }
	if s.opts.SIP != nil {
		st := s.opts.SIP.Stats()
		d.Draining = s.opts.SIP.Draining()
		d.Counters = append(d.Counters,
			figure{"calls active", strconv.Itoa(st.CallsActive)},
			figure{"calls total", u(st.CallsTotal)},
			figure{"calls answered", u(st.Answered)},
			figure{"answers never acknowledged", u(st.NoACK)},
			figure{"OPTIONS answered", u(st.Options)},
			figure{"untrusted requests", u(st.Untrusted)},
			figure{"handler panics", u(st.Panics)},
		)
		codes := make([]int, 0, len(st.Rejected))
		for c := range st.Rejected {
			codes = append(codes, c)
		}
		slices.Sort(codes)
		for _, c := range codes {
			d.Rejected = append(d.Rejected, figure{strconv.Itoa(c), u(st.Rejected[c])})
		}
	}
	if s.opts.Media != nil {
		m := s.opts.Media.Totals()
		d.Counters = append(d.Counters,
			figure{"media sessions active", strconv.Itoa(s.opts.Media.Active())},
			figure{"RTP packets sent", u(uint64(m.PacketsSent))},
			figure{"RTP packets received", u(uint64(m.PacketsReceived))},
			figure{"RTP packets lost", i(m.PacketsLost)},
			figure{"RTP packets dropped", u(uint64(m.Dropped))},
		)
	}
	return d
}

// static serves the embedded files under /static/ (GET and HEAD); directories and unknown
// names are 404.
func (s *Server) static(w http.ResponseWriter, r *http.Request) {
	name := path.Clean(strings.TrimPrefix(r.URL.Path, "/"))
	b, err := fs.ReadFile(staticFiles, name)
	if err != nil || !strings.HasPrefix(name, "static/") {
		writeText(w, http.StatusNotFound, "not found\n")
		return
	}
	ctype := "application/octet-stream"
	switch path.Ext(name) {
	case ".css":
		ctype = "text/css; charset=utf-8"
	case ".svg":
		ctype = "image/svg+xml"
	}
	write(w, http.StatusOK, ctype, b)
}
