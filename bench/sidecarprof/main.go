// Command sidecarprof is `sidecar serve` (the shipped templates, or [general] templates), wired as
// cmd/sidecar/serve.go wires it (app.NewRegistry, routing.Load, the media plane, sipsvc),
// plus a CPU profile and a heap profile written to files: the sidecar itself has no pprof
// endpoint, and this harness keeps profiling out of the product. It serves until -for has passed (or SIGINT/SIGTERM), profiling
// CPU the whole time, then writes the heap profile (live objects after a GC) and exits.
//
//	sidecarprof -config sidecar.ini -for 30s -cpu cpu.pprof -heap heap.pprof
//	go tool pprof -top -nodecount 40 sidecarprof cpu.pprof
//
// With -memstats FILE, every SIGUSR1 forces a garbage collection and appends one line of heap
// statistics to FILE (bench/sustain.sh reads the idle process's and the one after the calls):
//
//	heap_inuse_kb=N heap_alloc_kb=N heap_objects=N sys_kb=N rss_kb=N goroutines=N num_gc=N
//
// -cpu "" and -heap "" turn those profiles off (a measuring run without the profiler's cost).
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
	"strconv"
	"strings"
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
	memFile := flag.String("memstats", "", "on SIGUSR1: force a GC and append heap statistics to this file (off when empty)")
	flag.Parse()
	p := profiles{cpu: *cpuFile, heap: *heapFile, block: *blockFile, mutex: *mutexFile,
		goroutines: *gorFile, goroutinesAt: *gorAt, memstats: *memFile}
	if err := run(*cfgPath, *limit, p); err != nil {
		fmt.Fprintln(os.Stderr, "sidecarprof:", err)
		os.Exit(1)
	}
}

// profiles names the profile files to write.
type profiles struct {
	cpu, heap, block, mutex, goroutines, memstats string
	goroutinesAt                                  time.Duration
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
	// [general] templates as serve reads it (bench/sustain.sh points it at the shipped templates
	// plus bench/templates), else the shipped templates.
	bundle, diag := routing.Load(routing.Options{Config: cfg, Dir: cfg.General.Templates, Apps: reg})
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

	if cpuFile != "" {
		cf, err := os.Create(cpuFile)
		if err != nil {
			return fmt.Errorf("create cpu profile: %w", err)
		}
		defer cf.Close()
		if err := pprof.StartCPUProfile(cf); err != nil {
			return fmt.Errorf("start cpu profile: %w", err)
		}
	}
	if p.memstats != "" {
		usr1 := make(chan os.Signal, 1)
		signal.Notify(usr1, syscall.SIGUSR1)
		defer signal.Stop(usr1)
		go func() {
			for range usr1 {
				if err := appendMemStats(p.memstats); err != nil {
					fmt.Fprintln(os.Stderr, "sidecarprof:", err)
				}
			}
		}()
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
		if heapFile != "" {
			runtime.GC()
			errs = append(errs, writeProfile("heap", heapFile, 0))
		}
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

// appendMemStats forces a garbage collection and appends one line of heap statistics (and
// the process's resident set size) to path.
func appendMemStats(path string) error {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	rss := int64(-1)
	if b, err := os.ReadFile("/proc/self/status"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
				rss, _ = strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			}
		}
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("open memstats: %w", err)
	}
	_, err = fmt.Fprintf(f, "heap_inuse_kb=%d heap_alloc_kb=%d heap_objects=%d sys_kb=%d rss_kb=%d goroutines=%d num_gc=%d\n",
		m.HeapInuse>>10, m.HeapAlloc>>10, m.HeapObjects, m.Sys>>10, rss, runtime.NumGoroutine(), m.NumGC)
	return errors.Join(err, f.Close())
}
