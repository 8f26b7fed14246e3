package sipsvc

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/sidecar-voip/sidecar/cdr"
	"github.com/sidecar-voip/sidecar/config"
	"github.com/sidecar-voip/sidecar/media"
	"github.com/sidecar-voip/sidecar/metrics"
	"github.com/sidecar-voip/sidecar/routing"
	"github.com/sidecar-voip/sidecar/voicemail"
)

// Options are what a Server needs. Config is required and must not change after New; the
// others may be nil for a service that only answers OPTIONS (an INVITE then gets 500 and a
// log line naming what is missing).
type Options struct {
	// Config is the whole configuration; the service reads its [sip] section.
	Config *config.Config
	// Router routes each call (identification, profiles, dialplan context and plan): a
	// *routing.Bundle from routing.Load, or a *routing.Live a hot reload swaps bundles in.
	Router routing.Router
	// Media is the media plane; nil means no media: Answer and early media fail with 500.
	Media media.Plane
	// Log receives the service's structured logs; nil discards them.
	Log *slog.Logger
	// Mailboxes is the voicemail store MWI reports on (SUBSCRIBE message-summary, unsolicited
	// NOTIFY, [mwi] publish); nil answers such SUBSCRIBEs 489.
	Mailboxes voicemail.Store
	// Metrics records call-setup, profile-build and dialplan times, calls by context and
	// result, and media jitter and loss; nil records nothing.
	Metrics *metrics.Metrics
	// Records receives one call record per finished call; nil writes none.
	Records *cdr.Writer
}

// Server is one SIP service: its listeners, handlers, calls and counters.
// Create it with New, run it with Serve, stop it by cancelling Serve's context or with Drain.
type Server struct {
	opts    Options
	cfg     *config.SIP
	log     *slog.Logger
	tlsConf *tls.Config
	fixed   fixedHeaders // answers' Server, Allow, Supported (respond.go)

	ua     *sipgo.UserAgent
	srv    *sipgo.Server
	client *sipgo.Client

	dialogs         dialogTable
	mediaWatch      mediaWatch     // ends calls whose media ended by itself (mediawatch.go)
	durations       durationLimits // ends calls at their maximum duration, one timer for all (duration.go)
	limit           limiter
	admit           *admission       // overload control (admission.go)
	trying          tryingQueue      // calls waiting for their 100 Trying (trying.go)
	overloadRefused [2]atomic.Uint64 // INVITE, OPTIONS refused by overload control
	stats           counters
	untrustedLog    rateLimit
	mwi             *mwiService // nil without Options.Mailboxes
	blf             *blfService

	draining    atomic.Bool
	live        atomic.Pointer[liveSettings] // the settings Apply changes; see live.go
	maxDuration atomic.Int64                 // bound of every call (nanoseconds): maxCallDuration; tests shorten it
	hangupCtx   context.Context
	hangupAll   context.CancelCauseFunc

	mu      sync.Mutex
	serving bool
	addrs   []config.Listen
	closers []io.Closer

	ready     chan struct{}
	drainOnce sync.Once
	drained   chan struct{}
	drainErr  error
}

// New builds a Server from opts and registers its handlers. It binds nothing: Serve does.
func New(opts Options) (*Server, error) {
	if opts.Config == nil {
		return nil, errors.New("new sip server: nil config")
	}
	c := &opts.Config.SIP
	if c.MaxCalls <= 0 {
		return nil, fmt.Errorf("new sip server: max-calls %d: must be positive", c.MaxCalls)
	}
	if len(c.Listen) == 0 {
		return nil, errors.New("new sip server: no listen address")
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		opts:    opts,
		cfg:     c,
		log:     opts.Log,
		ready:   make(chan struct{}),
		drained: make(chan struct{}),
		fixed:   newFixedHeaders(c.UserAgent, opts.Mailboxes != nil),
	}
	s.limit.max.Store(int64(c.MaxCalls))
	s.admit = newAdmission(c.MaxCPS, s.limit.full)
	s.admit.setMaxDelay(c.MaxQueueDelay)
	s.live.Store(newLiveSettings(c))
	s.maxDuration.Store(int64(maxCallDuration))
	s.stats.rejected = make(map[int]uint64)
	s.hangupCtx, s.hangupAll = context.WithCancelCause(context.Background())

	// sipgo logs through these loggers; the redacting handler drops raw message dumps,
	// which may carry secrets (X-MailBoxPin).
	sipLog := slog.New(redactHandler{opts.Log.Handler()}).With("component", "sipgo")
	setSipgoLogger(sipLog)
	uaOpts := []sipgo.UserAgentOption{
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(sipLog), streamTransports()),
		sipgo.WithUserAgentTransactionLayerOptions(sip.WithTransactionLayerLogger(sipLog),
			sip.WithTransactionLayerPreRequest(s.preTransaction), sip.WithTransactionLayerNoTimer1xx()),
	}
	if c.UserAgent != "" {
		uaOpts = append(uaOpts, sipgo.WithUserAgent(c.UserAgent))
	}
	tlsConf, err := loadTLS(c)
	if err != nil {
		return nil, fmt.Errorf("new sip server: %w", err)
	}
	s.tlsConf = tlsConf
	s.ua, err = sipgo.NewUA(uaOpts...)
	if err != nil {
		return nil, fmt.Errorf("new sip server: user agent: %w", err)
	}
	s.srv, err = sipgo.NewServer(s.ua, sipgo.WithServerLogger(sipLog))
	if err != nil {
		s.ua.Close()
		return nil, fmt.Errorf("new sip server: %w", err)
	}
	s.client, err = sipgo.NewClient(s.ua, sipgo.WithClientLogger(sipLog))
	if err != nil {
		s.ua.Close()
		return nil, fmt.Errorf("new sip server: client: %w", err)
	}
	s.mwi = newMWI(s, opts.Mailboxes, opts.Config.MWI)
	s.blf = newBLF(s, opts.Config.Presence, s.log)
	s.register()
	return s, nil
}

// register installs every handler, each wrapped in panic recovery. sipgo answers ACK with
// 405 when no handler exists, so ACK is always registered.
func (s *Server) register() {
	s.srv.OnInvite(s.guard(s.handleInvite))
	s.srv.OnAck(s.guard(s.handleAck))
	s.srv.OnBye(s.guard(s.handleBye))
	s.srv.OnCancel(s.guard(s.handleCancel))
	s.srv.OnOptions(s.guard(s.handleOptions))
	s.srv.OnInfo(s.guard(s.handleInfo))
	s.srv.OnSubscribe(s.guard(s.handleSubscribe))
	s.srv.OnNoRoute(s.guard(s.handleOther))
}

// Serve binds every configured listener, signals Ready, and serves until ctx is done; it
// then drains (see Drain) and returns. It also returns, with Drain's result, when Drain is
// called directly. A listener that cannot be bound makes Serve fail at once.
func (s *Server) Serve(ctx context.Context) error {
	s.mu.Lock()
	if s.serving {
		s.mu.Unlock()
		return ErrServed
	}
	s.serving = true
	s.mu.Unlock()

	if err := s.listen(); err != nil {
		s.closeListeners()
		s.ua.Close()
		return err
	}
	pctx, stopPresence := context.WithCancel(context.Background())
	defer stopPresence()
	if s.mwi != nil {
		go s.mwi.serve(pctx)
	}
	go s.blf.serve(pctx)
	close(s.ready)
	s.log.Info("sip service listening", "addrs", s.Addrs(), "max_calls", s.cfg.MaxCalls)

	select {
	case <-ctx.Done():
		dctx, cancel := context.WithTimeout(context.Background(), s.cfg.DrainGrace+drainSlack)
		defer cancel()
		return s.Drain(dctx)
	case <-s.drained:
		return s.drainErr
	}
}

// drainSlack bounds how long Serve's own drain waits past the grace period for the BYEs of
// the calls it hangs up.
const drainSlack = byeTimeout + 5*time.Second

// Ready is closed once every listener is bound (Addrs is then complete).
func (s *Server) Ready() <-chan struct{} { return s.ready }

// Addrs returns the bound listeners with their actual ports (a configured port 0 shows the
// port the kernel chose), in configuration order.
func (s *Server) Addrs() []config.Listen {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]config.Listen(nil), s.addrs...)
}

// Draining reports whether the service is draining (new INVITEs and OPTIONS get 503).
func (s *Server) Draining() bool { return s.draining.Load() }
