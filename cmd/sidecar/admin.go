package main

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/sidecar-voip/sidecar/admin"
	"github.com/sidecar-voip/sidecar/config"
	"github.com/sidecar-voip/sidecar/metrics"
	"github.com/sidecar-voip/sidecar/push"
	"github.com/sidecar-voip/sidecar/routing"
	"github.com/sidecar-voip/sidecar/sipsvc"
)

// startAdmin binds the [admin] endpoint, logs "admin listening" with the bound address and
// serves it in the background until stop is called. serve calls stop after the SIP service
// has stopped, so /healthz answers 503 "draining" during the drain. With [admin] listen
// empty it does nothing; a bind error (or a remote address without allow-remote) is returned.
func startAdmin(cfg config.Admin, sip *sipsvc.Server, media admin.MediaSource, mets *metrics.Metrics, store *push.Store,
	reload *routing.Reloader, log *slog.Logger) (stop func(), err error) {
	ln, err := admin.Listen(cfg)
	if errors.Is(err, admin.ErrDisabled) {
		return func() {}, nil
	}
	if err != nil {
		return nil, err
	}
	opts := admin.Options{
		SIP: sip, Media: media, Metrics: mets, Version: buildVersion(), Start: time.Now(),
		AllowRemote: cfg.AllowRemote, Log: log,
		Token: cfg.Token, Routing: store, Push: store,
	}
	if reload != nil {
		opts.Reload = reload
	}
	pageOptions(&opts, sip, store)
	opts.Errors = changeErrors{reload: reload, push: store}
	srv := admin.New(opts)
	log.Info("admin listening", "addr", ln.Addr().String())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ctx, ln); err != nil {
			log.Error("admin endpoint stopped", "err", err)
		}
	}()
	return func() {
		cancel()
		<-done
	}, nil
}
