package cdr

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"time"
)

// Stdout is the Config.Path that writes the records to standard output.
const Stdout = "-"

// Defaults of Config.
const (
	DefaultQueue = 1024
	defaultCheck = time.Second
	// maxBatch bounds the lines written between two rotation checks.
	maxBatch = 256
)

// ErrClosed is returned by Flush after Close.
var ErrClosed = errors.New("call records closed")

// Config configures Open.
type Config struct {
	// Path is the file the records are appended to (created 0640 when missing), or Stdout.
	Path string
	// Queue is how many records may wait for the writer; past it they are dropped. 0 means
	// DefaultQueue.
	Queue int
	// Check is how often an idle writer checks whether Path was renamed; 0 means every
	// second. Tests set it long to see Reopen alone at work.
	Check time.Duration
	// Out replaces os.Stdout when Path is Stdout (for tests).
	Out io.Writer
}

// Stats are the writer's counters since Open.
type Stats struct {
	// Written counts records written, Dropped records lost to a full queue (or to a
	// write error, logged), Reopens the times the file was reopened.
	Written, Dropped, Reopens uint64
}

// item is a queued line, or (line nil) a flush marker closed once every line before it is
// written.
type item struct {
	line []byte
	done chan struct{}
}

// Writer appends call records; see the package documentation. Its methods are safe for
// concurrent use and on a nil *Writer (which writes nothing).
type Writer struct {
	cfg    Config
	log    *slog.Logger
	q      chan item
	reopen chan struct{}
	stop   chan struct{}
	done   chan struct{}
	closed atomic.Bool
	once   sync.Once

	written, dropped, reopens atomic.Uint64

	// Owned by the writer goroutine.
	f      *os.File
	fi     os.FileInfo
	out    *bufio.Writer
	failed bool // the last reopen failed (logged once)
}

// Open opens cfg.Path (or standard output) and starts the writer goroutine; Close stops it.
// log may be nil.
func Open(cfg Config, log *slog.Logger) (*Writer, error) {
	if cfg.Path == "" {
		return nil, errors.New("open call records: no path")
	}
	if cfg.Queue <= 0 {
		cfg.Queue = DefaultQueue
	}
	if cfg.Check <= 0 {
		cfg.Check = defaultCheck
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	w := &Writer{
		cfg: cfg, log: log,
		q:      make(chan item, cfg.Queue),
		reopen: make(chan struct{}, 1),
		stop:   make(chan struct{}),
		done:   make(chan struct{}),
	}
	if cfg.Path == Stdout {
		out := cfg.Out
		if out == nil {
			out = os.Stdout
		}
		w.out = bufio.NewWriterSize(out, 64<<10)
	} else if err := w.openFile(); err != nil {
		return nil, err
	}
	go w.run()
	return w, nil
}

// Write queues r as one JSON line. It never blocks: with the queue full (or the writer
// closed) the record is dropped and counted.
func (w *Writer) Write(r *Record) {
	if w == nil {
		return
	}
	line, err := json.Marshal(r)
	if err != nil || w.closed.Load() {
		w.dropped.Add(1)
		return
	}
	select {
	case w.q <- item{line: append(line, '\n')}:
	default:
		w.dropped.Add(1)
	}
}

// Reopen asks the writer to reopen its file (after logrotate renamed it). It does not block;
// with standard output it does nothing.
func (w *Writer) Reopen() {
	if w == nil {
		return
	}
	select {
	case w.reopen <- struct{}{}:
	default: // one already pending
	}
}

// NotifyReopen calls Reopen whenever the process gets one of sigs (SIGUSR1 for logrotate's
// postrotate) until the returned stop is called.
func (w *Writer) NotifyReopen(sigs ...os.Signal) (stop func()) {
	if w == nil {
		return func() {}
	}
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, sigs...)
	quit := make(chan struct{})
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		for {
			select {
			case <-ch:
				w.log.Info("call records: reopen on signal", "path", w.cfg.Path)
				w.Reopen()
			case <-quit:
				return
			}
		}
	}()
	return func() {
		signal.Stop(ch)
		close(quit)
		<-exited
	}
}

// Flush waits until every record queued before it is written (the queue is FIFO), or ctx
// ends.
func (w *Writer) Flush(ctx context.Context) error {
	if w == nil {
		return nil
	}
	if w.closed.Load() {
		return ErrClosed
	}
	done := make(chan struct{})
	select {
	case w.q <- item{done: done}:
	case <-ctx.Done():
		return fmt.Errorf("flush call records: %w", ctx.Err())
	case <-w.done:
		return ErrClosed
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("flush call records: %w", ctx.Err())
	case <-w.done:
		return ErrClosed
	}
}

// Stats returns the counters.
func (w *Writer) Stats() Stats {
	if w == nil {
		return Stats{}
	}
	return Stats{Written: w.written.Load(), Dropped: w.dropped.Load(), Reopens: w.reopens.Load()}
}

// Close writes the records still queued, closes the file and stops the writer. Records
// written after Close are dropped. It is idempotent.
func (w *Writer) Close() error {
	if w == nil {
		return nil
	}
	w.once.Do(func() {
		w.closed.Store(true)
		close(w.stop)
	})
	<-w.done
	return nil
}

// run is the writer goroutine: the only one that touches the file.
func (w *Writer) run() {
	defer close(w.done)
	tick := time.NewTicker(w.cfg.Check)
	defer tick.Stop()
	for {
		select {
		case it := <-w.q:
			w.batch(it)
		case <-w.reopen:
			w.reopenFile("reopen requested")
		case <-tick.C:
			w.checkRotated()
		case <-w.stop:
			for {
				select {
				case it := <-w.q:
					w.batch(it)
					continue
				default:
				}
				break
			}
			w.out.Flush()
			if w.f != nil {
				w.f.Close()
			}
			return
		}
	}
}

// batch writes it and whatever else is queued (up to maxBatch lines), after checking that
// the path still names the open file.
func (w *Writer) batch(it item) {
	w.checkRotated()
	var markers []chan struct{}
	for n := 0; ; n++ {
		if it.line == nil {
			markers = append(markers, it.done)
		} else if _, err := w.out.Write(it.line); err != nil {
			w.dropped.Add(1)
			w.log.Error("call records: write", "path", w.cfg.Path, "err", err)
		} else {
			w.written.Add(1)
		}
		if n >= maxBatch {
			break
		}
		select {
		case it = <-w.q:
			continue
		default:
		}
		break
	}
	if err := w.out.Flush(); err != nil {
		w.log.Error("call records: write", "path", w.cfg.Path, "err", err)
		w.out.Reset(w.writerTarget())
	}
	for _, d := range markers {
		close(d)
	}
}

// writerTarget is what out writes to.
func (w *Writer) writerTarget() io.Writer {
	if w.f != nil {
		return w.f
	}
	if w.cfg.Out != nil {
		return w.cfg.Out
	}
	return os.Stdout
}

// checkRotated reopens the file when its path no longer names it: renamed away, removed, or
// replaced by another file.
func (w *Writer) checkRotated() {
	if w.f == nil {
		return
	}
	fi, err := os.Stat(w.cfg.Path)
	if err == nil && os.SameFile(fi, w.fi) {
		return
	}
	w.reopenFile("path rotated")
}

// reopenFile closes the file and opens the path again; on failure it keeps writing to the
// old file and logs the error once.
func (w *Writer) reopenFile(why string) {
	if w.f == nil {
		return
	}
	w.out.Flush()
	old := w.f
	if err := w.openFile(); err != nil {
		if !w.failed {
			w.log.Error("call records: reopen", "err", err, "reason", why)
		}
		w.failed = true
		return
	}
	w.failed = false
	old.Close()
	w.reopens.Add(1)
	w.log.Info("call records: reopened", "path", w.cfg.Path, "reason", why)
}

// openFile opens the path for appending and makes it the writer's output.
func (w *Writer) openFile() error {
	f, err := os.OpenFile(w.cfg.Path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return fmt.Errorf("open call records: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("open call records: %w", err)
	}
	w.f, w.fi = f, fi
	if w.out == nil {
		w.out = bufio.NewWriterSize(f, 64<<10)
	} else {
		w.out.Reset(f)
	}
	return nil
}
