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
	"github.com/sidecar-voip/sidecar/internal/lazylog"
	"github.com/sidecar-voip/sidecar/routing"
	"github.com/sidecar-voip/sidecar/rtp"
	"github.com/sidecar-voip/sidecar/sipsvc"
)

func main() {
	cfgPath := flag.String("config", "", "sidecar.ini")
	limit := flag.Duration("for", 30*time.Second, "serve this long")
	cpuFile := flag.String("cpu", "cpu.pprof", "CPU profile output")
	heapFile := flag.String("heap", "heap.pprof", "heap profile output (written at the end)")
	blockFile := flag.String("block", "", "block profile output (written at the end; off when empty)")
	mutexFile := flag.String("mutex", "", "mutex contention profile output (written at the end; off when empty)")
	gorFile := flag.String("goroutines", "", "goroutine dump (debug=2) written at -goroutines-at")
	gorAt := flag.Duration("goroutines-at", 10*time.Second, "when to write the goroutine dump")
	flag.Parse()
	p := profiles{cpu: *cpuFile, heap: *heapFile, block: *blockFile, mutex: *mutexFile,
		goroutines: *gorFile, goroutinesAt: *gorAt}
	if err := run(*cfgPath, *limit, p); err != nil {
		fmt.Fprintln(os.Stderr, "sidecarprof:", err)
		os.Exit(1)
	}
}

// profiles names the profile files to write.
type profiles struct {
	cpu, heap, block, mutex, goroutines string
	goroutinesAt                        time.Duration
}

// writeProfile writes the named runtime profile to path (debug as pprof.Lookup takes it).
func writeProfile(name, path string, debug int) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("create %s profile: %w", name, err)
	}
	return errors.Join(pprof.Lookup(name).WriteTo(f, debug), f.Close())
}

func run(cfgPath string, limit time.Duration, p profiles) error {
	cpuFile, heapFile := p.cpu, p.heap
	if p.block != "" {
		runtime.SetBlockProfileRate(int(10 * time.Microsecond)) // one sample per 10 us blocked
	}
	if p.mutex != "" {
		runtime.SetMutexProfileFraction(10)
	}
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
	log := slog.New(lazylog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})))
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
	if p.goroutines != "" {
		t := time.AfterFunc(p.goroutinesAt, func() {
			if err := writeProfile("goroutine", p.goroutines, 2); err != nil {
				fmt.Fprintln(os.Stderr, "sidecarprof:", err)
			}
		})
		defer t.Stop()
	}
	go func() {
		<-ctx.Done()
		pprof.StopCPUProfile()
		var errs []error
		if p.block != "" {
			errs = append(errs, writeProfile("block", p.block, 0))
		}
		if p.mutex != "" {
			errs = append(errs, writeProfile("mutex", p.mutex, 0))
		}
		runtime.GC()
		errs = append(errs, writeProfile("heap", heapFile, 0))
		heapDone <- errors.Join(errs...)
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
