package admin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"time"

	"github.com/sidecar-voip/sidecar/config"
	"github.com/sidecar-voip/sidecar/metrics"
	"github.com/sidecar-voip/sidecar/push"
	"github.com/sidecar-voip/sidecar/rtp"
	"github.com/sidecar-voip/sidecar/sipsvc"
)

// ErrDisabled is returned by Listen when [admin] listen is empty.
var ErrDisabled = errors.New("admin endpoint disabled")

// ErrRemote is returned by Listen and Serve for an address that is not loopback when remote
// access was not allowed.
var ErrRemote = errors.New("not a loopback address; set [admin] allow-remote = yes to expose the admin endpoint")

// ErrNoToken is returned by Listen for an address that is not loopback without [admin] token.
var ErrNoToken = errors.New("not a loopback address; set [admin] token (or token-file) to expose the admin endpoint")

// Timeouts of the HTTP server. The handlers only read counters, so they are short.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 10 * time.Second
	writeTimeout      = 10 * time.Second
	idleTimeout       = 60 * time.Second
	maxHeaderBytes    = 16 << 10
	// shutdownTimeout bounds the graceful shutdown when Serve's context ends.
	shutdownTimeout = 3 * time.Second
)

// SIPSource is what the endpoint reads from the SIP service; *sipsvc.Server implements it.
type SIPSource interface {
	// Stats returns a snapshot of the service's counters.
	Stats() sipsvc.Stats
	// Draining reports whether the service is draining.
	Draining() bool
}

// MediaSource is what the endpoint reads from the media plane; *rtp.Engine implements it.
type MediaSource interface {
	// Active returns the number of open media sessions.
	Active() int
	// Totals returns the counters of every session, closed or open.
	Totals() rtp.Stats
}

// Options configure a Server. A nil source reports zeros (and never draining).
type Options struct {
	// SIP is the SIP service's counters and drain state.
	SIP SIPSource
	// Media is the media plane's counters.
	Media MediaSource
	// Metrics holds the event metrics (histograms, calls by context and result, runtime
	// and process collectors) /metrics serves next to the snapshot's; nil serves only those.
	Metrics *metrics.Metrics
	// Version is the build's version string, shown in sidecar_build_info and /status.
	Version string
	// Start is when the process started; the zero value means when New was called.
	Start time.Time
	// Now is the clock (uptime); nil means time.Now.
	Now func() time.Time
	// AllowRemote permits Serve on a listener whose address is not loopback.
	AllowRemote bool
	// Reload, when set, is what POST /reload runs (see reload.go); nil leaves /reload
	// unrouted (404).
	Reload Reloader
	// Log receives panics and HTTP server errors; nil discards them.
	Log *slog.Logger

	// The status page at "/" (page.go) also reads these; each may be nil.

	// Calls lists the live calls (*sipsvc.Server); nil shows none.
	Calls CallSource
	// Templates lists the loaded templates with their file:line; nil shows none.
	Templates func() []TemplateInfo
	// Errors reports recent reload and push errors; nil until those features exist.
	Errors EventSource
	// Render explains a pasted SIP request for the page's form; nil hides the form.
	Render RenderFunc

	// Token, when set, is the bearer token every request but /healthz must carry (see
	// Authorize); [admin] token. Never logged.
	Token string
	// Routing is the running bundle GET /templates and POST /render read; nil disables the
	// template API and /render (404).
	Routing BundleSource
	// Templates is the store PUT, PATCH and DELETE /templates/{name} change; nil makes the
	// template API read-only.
	Push *push.Store
}

// Server is the admin endpoint. Serve runs it; the zero value is not usable, call New.
type Server struct {
	opts     Options
	handler  http.Handler
	fams     []fam         // the snapshot's families, described once
	labelled []labelledFam // likewise, those with labels
}

// New returns a Server reading opts' sources.
func New(opts Options) *Server {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Start.IsZero() {
		opts.Start = opts.Now()
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	s := &Server{opts: opts, fams: snapshotFamilies(), labelled: labelledFamilies()}
	s.handler = s.authorize(s.api(s.routes()))
	return s
}

// Handler returns the endpoint's HTTP handler (routing, 404/405, panic recovery), for tests
// and embedding; Serve uses it.
func (s *Server) Handler() http.Handler { return s.handler }

// Listen binds cfg.Listen over TCP. It returns ErrDisabled when cfg.Listen is not set and
// ErrRemote when the address is not loopback and cfg.AllowRemote is false.
func Listen(cfg config.Admin) (net.Listener, error) {
	if !cfg.Listen.IsValid() {
		return nil, ErrDisabled
	}
	if !cfg.AllowRemote && !isLoopback(cfg.Listen.Addr()) {
		return nil, fmt.Errorf("listen admin %s: %w", cfg.Listen, ErrRemote)
	}
	if cfg.Token == "" && !isLoopback(cfg.Listen.Addr()) {
		return nil, fmt.Errorf("listen admin %s: %w", cfg.Listen, ErrNoToken)
	}
	ln, err := net.Listen("tcp", cfg.Listen.String())
	if err != nil {
		return nil, fmt.Errorf("listen admin: %w", err)
	}
	return ln, nil
}

// Serve serves HTTP on ln until ctx ends, then shuts down gracefully within a few seconds,
// closes the connections left, and returns nil. It returns an error at once, closing ln, when ln's
// address is not loopback and Options.AllowRemote is false (ErrRemote), and when serving
// fails before ctx ends.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	if a, ok := ln.Addr().(*net.TCPAddr); ok && !s.opts.AllowRemote {
		if ip := a.AddrPort().Addr(); !isLoopback(ip) {
			ln.Close()
			return fmt.Errorf("serve admin %s: %w", a, ErrRemote)
		}
	}
	hs := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.opts.Log.Handler(), slog.LevelWarn),
	}
	done := make(chan error, 1)
	go func() { done <- hs.Serve(ln) }()
	select {
	case err := <-done:
		return fmt.Errorf("serve admin: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		// A client still sending its request (or a handler stuck) past the bound: cut it.
		s.opts.Log.Warn("admin shutdown forced", "err", err)
		hs.Close()
	}
	<-done
	return nil
}

// isLoopback reports whether a is a loopback address (IPv4-mapped IPv6 included).
func isLoopback(a netip.Addr) bool { return a.Unmap().IsLoopback() }

// The production sources satisfy the interfaces.
var (
	_ SIPSource   = (*sipsvc.Server)(nil)
	_ MediaSource = (*rtp.Engine)(nil)
	_ CallSource  = (*sipsvc.Server)(nil)
)
