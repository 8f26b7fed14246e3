package main

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"slices"
	"sync"
	"syscall"

	"github.com/sidecar-voip/sidecar/config"
	"github.com/sidecar-voip/sidecar/dialplan"
	"github.com/sidecar-voip/sidecar/internal/watch"
	"github.com/sidecar-voip/sidecar/metrics"
	"github.com/sidecar-voip/sidecar/push"
	"github.com/sidecar-voip/sidecar/routing"
	"github.com/sidecar-voip/sidecar/sipsvc"
)

// newReloader is serve's hot reload: each reload reads the settings file (cfgPath; "" keeps
// the built-in defaults) and the template directory (the -templates flag, else [general]
// templates) again and compiles them against reg, the registry of the start (so the
// applications' state, such as PIN lockouts, outlives a reload), and on success applies the live [sip]
// settings to srv, the log level to level and the dialplan's contexts to mets' labels.
func newReloader(cfgPath, flagDir string, reg *dialplan.Registry, pushed []routing.Pushed, live *routing.Live, srv *sipsvc.Server, mets *metrics.Metrics,
	level *slog.LevelVar, log *slog.Logger) (*routing.Reloader, error) {
	sources := func() (routing.Options, error) {
		cfg, err := loadConfig(cfgPath)
		if err != nil {
			return routing.Options{}, err
		}
		return routing.Options{Config: cfg, Dir: templatesDir(flagDir, cfg), Apps: reg}, nil
	}
	apply := func(cfg *config.Config) {
		if err := srv.Apply(cfg); err != nil {
			log.Error("reload: apply sip settings", "err", err)
		}
		level.Set(logLevel(cfg.General.LogLevel))
		mets.SetContexts(live.Current().Plan().Contexts()) // Apply runs right after the swap
	}
	return routing.NewReloader(routing.ReloaderOptions{
		Live: live, Sources: sources, Overlay: withPushed(pushed), Apply: apply,
		Log: log.With("component", "reload"),
	})
}

// withPushed is the overlay that compiles the pushed templates with the files.
func withPushed(pushed []routing.Pushed) func(*routing.Options) {
	pushed = slices.Clone(pushed)
	return func(o *routing.Options) { o.Pushed = pushed }
}

// pushRebuilder makes the reloader the push API's push.Rebuilder: a push is loaded under the
// reload lock with the files as they are, and every later reload keeps the pushed set.
type pushRebuilder struct{ r *routing.Reloader }

// Current returns the running bundle.
func (p pushRebuilder) Current() *routing.Bundle { return p.r.Current() }

// Rebuild loads the files with pushed and swaps the result in (see routing.Reloader.Rebuild).
func (p pushRebuilder) Rebuild(pushed []routing.Pushed, commit func() error) (routing.Diagnostics, error) {
	return p.r.Rebuild(withPushed(pushed), commit)
}

var _ push.Rebuilder = pushRebuilder{}

// reloadTriggers runs the reload triggers of serve until ctx ends: SIGHUP, and with
// [general] watch = yes a watcher of the settings file and the template directory (the ones
// of the start). Signals during a reload coalesce into one more. wait returns once both
// have stopped.
func reloadTriggers(ctx context.Context, r *routing.Reloader, cfg *config.Config, cfgPath, dir string,
	log *slog.Logger) (wait func()) {
	var wg sync.WaitGroup
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	wg.Go(func() {
		defer signal.Stop(hup)
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				r.Reload("sighup") // logged and counted by the reloader
			}
		}
	})
	if cfg.General.Watch {
		o := watch.Options{Log: log.With("component", "watch")}
		if cfgPath != "" {
			o.Files = []string{cfgPath}
		}
		if dir != "" {
			o.Dirs = []string{dir}
		}
		if len(o.Files)+len(o.Dirs) == 0 {
			log.Warn("[general] watch: nothing to watch (no settings file, embedded templates)")
		} else {
			log.Info("watching for changes", "files", o.Files, "dirs", o.Dirs)
			wg.Go(func() {
				if err := watch.Run(ctx, o, func() { r.Reload("watch") }); err != nil {
					log.Error("file watcher stopped", "err", err)
				}
			})
		}
	}
	return wg.Wait
}
