package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/sidecar-voip/sidecar/app"
	"github.com/sidecar-voip/sidecar/cdr"
	"github.com/sidecar-voip/sidecar/config"
	"github.com/sidecar-voip/sidecar/internal/lazylog"
	"github.com/sidecar-voip/sidecar/metrics"
	"github.com/sidecar-voip/sidecar/push"
	"github.com/sidecar-voip/sidecar/routing"
	"github.com/sidecar-voip/sidecar/rtp"
	"github.com/sidecar-voip/sidecar/sipsvc"
	vmopen "github.com/sidecar-voip/sidecar/voicemail/open"
)

// runServe implements "sidecar serve [-config FILE] [-templates DIR]": it runs the SIP service
// until SIGTERM or SIGINT, reloading the settings and the templates on SIGHUP (and POST
// /reload, and file changes with [general] watch = yes), then drains (503 to new calls and keepalives, BYE to the calls left
// after [sip] drain-grace) and exits 0; a second signal stops it at once. With no -config it runs on the built-in defaults
// (udp and tcp on 127.0.0.1:5080, trusting 127.0.0.0/8); with no -templates and no [general]
// templates it runs on the templates embedded in the binary, so it works from any directory.
// Exit status: 0 after a clean drain, 1 when it cannot start or the drain fails, 2 on a usage
// error.
func runServe(args []string, _ io.Reader, _, stderr io.Writer) int {
	fl := flag.NewFlagSet("serve", flag.ContinueOnError)
	fl.SetOutput(stderr)
	cfgPath := fl.String("config", "", "settings `FILE` (sidecar.ini); default: the built-in defaults")
	dir := fl.String("templates", "", "`DIR`ectory of template and dialplan files (default: [general] templates, else the shipped ones)")
	fl.Usage = func() {
		fmt.Fprintln(stderr, "usage: sidecar serve [-config FILE] [-templates DIR]")
		fl.PrintDefaults()
	}
	if code, ok := parseFlags(fl, args); !ok {
		return code
	}
	if fl.NArg() > 0 {
		fl.Usage()
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	// Once the first signal starts the drain, a second one gets the default action: the
	// operator can always stop the process at once.
	go func() {
		<-ctx.Done()
		stop()
	}()
	if err := serve(ctx, *cfgPath, *dir, stderr); err != nil {
		fmt.Fprintf(stderr, "sidecar serve: %v\n", err)
		return 1
	}
	return 0
}

// serve loads everything, runs the SIP service until ctx is done, and drains it.
func serve(ctx context.Context, cfgPath, flagDir string, stderr io.Writer) error {
	cfg, err := loadConfig(cfgPath)
	if err != nil {
		return err
	}
	log, level := newLogger(stderr, cfg.General)
	setGCDefaults(log)
	dir := templatesDir(flagDir, cfg)
	// The templates, the dialplan against every application (signalling and media; later
	// VoiceMail and VoiceMailMain over the mailbox store opened here) and the identifier
	// chain: the same loading as check and render.
	// [voicemail] store = postgres://... is the shared store, else the directory store.
	var vmDir string
	if !vmopen.IsDatabase(cfg.Voicemail.Store) {
		if vmDir, err = voicemailDir(cfg); err != nil {
			return err
		}
	}
	vmStore, vmWhere, err := vmopen.Open(ctx, cfg.Voicemail.Store, vmDir, log.With("component", "voicemail"))
	if err != nil {
		return fmt.Errorf("voicemail store: %w", err)
	}
	defer vmStore.Close()
	log.Info("voicemail store", "store", vmWhere)
	vmStats := new(app.VoicemailStats)
	opts, err := loadOptions(cfg, dir, log.With("component", "app"), vmStore, vmStats)
	if err != nil {
		return fmt.Errorf("load templates %s: %w", cmp.Or(dir, routing.Embedded), err)
	}
	// Templates pushed over the admin API and persisted in [admin] push-dir are compiled
	// with the files from the start (docs/push.md).
	pushed, err := readPushed(cfg.Admin.PushDir)
	if err != nil {
		return err
	}
	opts.Pushed = push.Pushed(pushed)
	bundle, diag := routing.Load(opts)
	if err := diag.Err(); err != nil {
		if len(pushed) > 0 {
			return fmt.Errorf("load templates %s with the pushed templates of %s (remove a file there to drop a push): %w",
				cmp.Or(dir, routing.Embedded), cfg.Admin.PushDir, err)
		}
		return fmt.Errorf("load templates %s: %w", cmp.Or(dir, routing.Embedded), err)
	}
	live := routing.NewLive(bundle) // a hot reload or a push swaps bundles in it; calls keep theirs
	logWarnings(log, dir, diag)
	plane, err := rtp.NewEngine(rtp.Config(cfg.RTP), log.With("component", "rtp"))
	if err != nil {
		return fmt.Errorf("media plane: %w", err)
	}
	defer plane.Close()
	// The process's metrics (its own registry) and call records ([cdr] path).
	mets := metrics.New(metrics.Options{Contexts: bundle.Plan().Contexts()})
	mets.WatchVoicemail(vmStats.Snapshot)
	var records *cdr.Writer
	if cfg.CDR.Path != "" {
		if records, err = cdr.Open(cdr.Config{Path: cfg.CDR.Path, Queue: cfg.CDR.Queue}, log.With("component", "cdr")); err != nil {
			return err
		}
		defer records.Close() // after the drain: the last calls' records are written
		defer records.NotifyReopen(syscall.SIGUSR1)()
		mets.WatchCallRecords(func() (uint64, uint64) { st := records.Stats(); return st.Written, st.Dropped })
	}
	if vmopen.IsDatabase(cfg.Voicemail.Store) {
		mets.WatchVoicemailStore(func() metrics.VoicemailStore {
			st := vmopen.StatsOf(vmStore)
			return metrics.VoicemailStore{Down: st.Down, Outages: st.Outages, Unavailable: st.Unavailable}
		})
	}
	srv, err := sipsvc.New(sipsvc.Options{
		Config: cfg, Router: live, Media: plane, Log: log, Metrics: mets, Records: records,
		Mailboxes: vmStore, // MWI: SUBSCRIBE message-summary, NOTIFYs on every mailbox change
	})
	if err != nil {
		return err
	}
	reloader, err := newReloader(cfgPath, flagDir, opts.Apps, opts.Pushed, live, srv, mets, level, log)
	if err != nil {
		return err
	}
	// A push rebuilds through the reloader (one lock, one path), and every reload keeps the
	// pushed set.
	store := push.New(push.Options{
		Rebuilder: pushRebuilder{reloader}, Dir: cfg.Admin.PushDir, Initial: pushed,
		Log: log.With("component", "push"),
	})
	go store.Run(ctx) // the TTL janitor, until the drain starts
	tctx, stopTriggers := context.WithCancel(ctx)
	waitTriggers := reloadTriggers(tctx, reloader, cfg, cfgPath, dir, log)
	defer func() { stopTriggers(); waitTriggers() }()
	stopAdmin, err := startAdmin(cfg.Admin, srv, plane, mets, store, reloader, log.With("component", "admin"))
	if err != nil {
		return err
	}
	defer stopAdmin()
	log.Info("sidecar starting", "config", cmp.Or(cfgPath, "(defaults)"), "templates", bundle.Source(),
		"templates_loaded", len(bundle.Templates().Templates()), "identify", cfg.SIP.Identify)
	if err := srv.Serve(ctx); err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("drain: calls still up after %v: %w", cfg.SIP.DrainGrace, err)
		}
		return err
	}
	log.Info("sidecar stopped")
	return nil
}

// readPushed reads the pushes persisted in dir; none when dir is "".
func readPushed(dir string) ([]push.Entry, error) {
	if dir == "" {
		return nil, nil
	}
	return push.ReadDir(dir, time.Now())
}

// logWarnings logs every warning of a load, one line each, "file:line: message".
func logWarnings(log *slog.Logger, dir string, d routing.Diagnostics) {
	for _, w := range d.Warnings {
		log.Warn("template warning: " + posString(dir, w.Pos) + ": " + w.Msg)
	}
	for _, w := range d.Unroutable { // sidecar check reports these as errors
		log.Warn("dialplan: calls answered 404: " + posString(dir, w.Pos) + ": " + w.Msg)
	}
	for _, w := range d.SettingWarnings {
		log.Warn("settings warning: " + w)
	}
}

// newLogger builds the process logger from [general] log-level and log-format; a reload
// sets the level it returns.
func newLogger(w io.Writer, g config.General) (*slog.Logger, *slog.LevelVar) {
	level := new(slog.LevelVar)
	level.Set(logLevel(g.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler = slog.NewTextHandler(w, opts)
	if g.LogFormat == "json" {
		h = slog.NewJSONHandler(w, opts)
	}
	// Per-call loggers (With call_id, source, ...) are formatted only when they log; the
	// level stays the LevelVar's, so a reload still changes it.
	return slog.New(lazylog.New(h)), level
}

// logLevel parses [general] log-level; info when it does not parse.
func logLevel(s string) slog.Level {
	var level slog.Level
	if err := level.UnmarshalText([]byte(s)); err != nil {
		return slog.LevelInfo
	}
	return level
}
