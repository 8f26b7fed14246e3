// Command sidecarprof is `sidecar serve` with the shipped templates, wired as
// cmd/sidecar/serve.go wires it (app.NewRegistry, routing.Load, the media plane, sipsvc),
// plus a CPU profile and a heap profile written to files: the sidecar itself has no pprof
// endpoint, and this harness keeps profiling out of the product. It serves until -for has passed (or SIGINT/SIGTERM), profiling
// CPU the whole time, then writes the heap profile (live objects after a GC) and exits.
//
//	sidecarprof -config sidecar.ini -for 30s -cpu cpu.pprof -heap heap.pprof
//	go tool pprof -top -nodecount 40 sidecarprof cpu.pprof
//
// It is a measuring tool under bench/, not a second way to run the sidecar.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/sidecar-voip/sidecar/app"
	"github.com/sidecar-voip/sidecar/config"
	"github.com/sidecar-voip/sidecar/routing"
	"github.com/sidecar-voip/sidecar/rtp"
	"github.com/sidecar-voip/sidecar/sipsvc"
)

func main() {
	cfgPath := flag.String("config", "", "sidecar.ini")
	limit := flag.Duration("for", 30*time.Second, "serve this long")
	cpuFile := flag.String("cpu", "cpu.pprof", "CPU profile output")
	heapFile := flag.String("heap", "heap.pprof", "heap profile output (written at the end)")
	flag.Parse()
	if err := run(*cfgPath, *limit, *cpuFile, *heapFile); err != nil {
		fmt.Fprintln(os.Stderr, "sidecarprof:", err)
		os.Exit(1)
	}
}

func run(cfgPath string, limit time.Duration, cpuFile, heapFile string) error {
	cfg := config.Default()
	if cfgPath != "" {
		var err error
		if cfg, err = config.Load(cfgPath); err != nil {
			return err
		}
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.General.LogLevel)); err != nil {
		level = slog.LevelInfo
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	reg, err := app.NewRegistry(app.Deps{Log: log.With("component", "app")})
	if err != nil {
		return err
	}
	bundle, diag := routing.Load(routing.Options{Config: cfg, Apps: reg}) // the shipped templates
	if err := diag.Err(); err != nil {
		return fmt.Errorf("load templates: %w", err)
	}
	plane, err := rtp.NewEngine(rtp.Config(cfg.RTP), log.With("component", "rtp"))
	if err != nil {
		return fmt.Errorf("media plane: %w", err)
	}
	defer plane.Close()
	srv, err := sipsvc.New(sipsvc.Options{
		Config: cfg, Router: bundle, Media: plane, Log: log,
	})
	if err != nil {
		return err
	}

	cf, err := os.Create(cpuFile)
	if err != nil {
		return fmt.Errorf("create cpu profile: %w", err)
	}
	defer cf.Close()
	if err := pprof.StartCPUProfile(cf); err != nil {
		return fmt.Errorf("start cpu profile: %w", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	// The heap profile is taken while the calls' state is still live, before the drain.
	heapDone := make(chan error, 1)
	go func() {
		<-ctx.Done()
		pprof.StopCPUProfile()
		runtime.GC()
		hf, err := os.Create(heapFile)
		if err == nil {
			err = errors.Join(pprof.Lookup("heap").WriteTo(hf, 0), hf.Close())
		}
		heapDone <- err
	}()
	err = srv.Serve(ctx)
	if herr := <-heapDone; herr != nil {
		return fmt.Errorf("heap profile: %w", herr)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return nil
	}
	return err
}
