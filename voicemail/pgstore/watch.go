package pgstore

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/sidecar-voip/sidecar/voicemail"
)

// Changes by this Store reach its watchers directly after the commit; changes by other
// Stores (other sidecars) through NOTIFY on Channel, received on one dedicated LISTEN
// connection per Store, started by the first Watch. A notification names a mailbox; if it
// is watched here its counts are re-read and pushed when they moved. The connection is
// re-established after any failure, waiting 100 ms, then doubling up to Options.MaxBackoff;
// once LISTEN is back every watched mailbox is re-read, because notifications sent while it
// was away are lost. While PostgreSQL is down watchers keep the last counts they got.

// listenIdle is how long the listener waits for a notification before it pings the server,
// so a connection lost without a FIN (a partition) is noticed.
const listenIdle = 15 * time.Second

type watcher struct {
	s *Store

	// recountMu orders recounts, so a slower one never overwrites newer counts.
	recountMu sync.Mutex

	mu    sync.Mutex
	boxes map[string]*watched

	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
}

type watched struct {
	subs map[*sub]struct{}
	last voicemail.Counts
	have bool
}

type sub struct {
	ch   chan voicemail.Counts
	stop func() bool
}

// Watch reports a mailbox's counts now and on every change until ctx ends. With the
// database down the first value comes once it is back.
func (s *Store) Watch(ctx context.Context, mbox string) (<-chan voicemail.Counts, error) {
	if err := checkMailbox(mbox); err != nil {
		return nil, err
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, fmt.Errorf("watch mailbox %s: %w", mbox, voicemail.ErrClosed)
	}
	if s.watch == nil {
		wctx, cancel := context.WithCancel(context.Background())
		s.watch = &watcher{s: s, boxes: map[string]*watched{}, ctx: wctx, cancel: cancel, done: make(chan struct{})}
		go s.watch.listen()
	}
	w := s.watch
	s.mu.Unlock()

	sb := &sub{ch: make(chan voicemail.Counts, 1)}
	w.mu.Lock()
	b := w.boxes[mbox]
	if b == nil {
		b = &watched{subs: map[*sub]struct{}{}}
		w.boxes[mbox] = b
	}
	b.subs[sb] = struct{}{}
	w.mu.Unlock()
	sb.stop = context.AfterFunc(ctx, func() { w.unsubscribe(mbox, sb) })
	// The first value, read after subscribing so no change falls between.
	c, err := s.Counts(context.WithoutCancel(ctx), mbox)
	if err == nil {
		w.mu.Lock()
		if _, live := b.subs[sb]; live {
			if !b.have {
				b.last, b.have = c, true
			}
			offer(sb.ch, b.last)
		}
		w.mu.Unlock()
	}
	return sb.ch, nil
}

func (w *watcher) unsubscribe(mbox string, sb *sub) {
	w.mu.Lock()
	defer w.mu.Unlock()
	b := w.boxes[mbox]
	if b == nil {
		return
	}
	if _, ok := b.subs[sb]; !ok {
		return
	}
	delete(b.subs, sb)
	close(sb.ch)
	if len(b.subs) == 0 {
		delete(w.boxes, mbox)
	}
}

// offer puts c in a one-slot channel, replacing a value not yet read.
func offer(ch chan voicemail.Counts, c voicemail.Counts) {
	for {
		select {
		case ch <- c:
			return
		default:
		}
		select {
		case <-ch:
		default:
		}
	}
}

// changed recounts a mailbox this Store changed, if it is watched here.
func (s *Store) changed(mbox string) {
	s.mu.Lock()
	w := s.watch
	s.mu.Unlock()
	if w != nil {
		w.recount(mbox, false)
	}
}

// recount re-reads a watched mailbox's counts and pushes them if they moved (or always with
// force: after a reconnect a subscriber that never got a first value gets one).
func (w *watcher) recount(mbox string, force bool) {
	w.mu.Lock()
	_, watched := w.boxes[mbox]
	w.mu.Unlock()
	if !watched {
		return
	}
	w.recountMu.Lock()
	defer w.recountMu.Unlock()
	c, err := w.s.Counts(w.ctx, mbox)
	if err != nil {
		return // the last counts stay; the resync after the reconnect corrects them
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	b := w.boxes[mbox]
	if b == nil || (b.have && b.last == c && !force) {
		return
	}
	b.last, b.have = c, true
	for sb := range b.subs {
		offer(sb.ch, c)
	}
}

// resync re-reads every watched mailbox.
func (w *watcher) resync() {
	w.mu.Lock()
	boxes := make([]string, 0, len(w.boxes))
	for m := range w.boxes {
		boxes = append(boxes, m)
	}
	w.mu.Unlock()
	for _, m := range boxes {
		w.recount(m, true)
	}
}

// listen keeps one LISTEN connection up until the store closes.
func (w *watcher) listen() {
	defer close(w.done)
	backoff := 100 * time.Millisecond
	for w.ctx.Err() == nil {
		conn, err := w.connect()
		if err != nil {
			w.s.done(w.ctx, err) // counts and logs the outage once
			select {
			case <-w.ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, w.s.opts.MaxBackoff)
			continue
		}
		backoff = 100 * time.Millisecond
		if w.s.ready.Load() { // else the migrator says when the store is back, and resyncs
			w.s.setDown(false, nil)
		}
		w.resync()
		w.s.listenConnects.Add(1) // counted once listening and resynced
		w.receive(conn)
		conn.Close(context.Background())
	}
}

func (w *watcher) connect() (*pgx.Conn, error) {
	ctx, cancel := context.WithTimeout(w.ctx, w.s.opts.OpTimeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, w.s.url)
	if err != nil {
		return nil, err
	}
	if _, err := conn.Exec(ctx, "LISTEN "+Channel); err != nil {
		conn.Close(context.Background())
		return nil, err
	}
	return conn, nil
}

// receive handles notifications until the connection fails or the store closes.
func (w *watcher) receive(conn *pgx.Conn) {
	for {
		ctx, cancel := context.WithTimeout(w.ctx, listenIdle)
		n, err := conn.WaitForNotification(ctx)
		cancel()
		if w.ctx.Err() != nil {
			return
		}
		if err != nil {
			if conn.IsClosed() {
				return
			}
			pctx, cancel := context.WithTimeout(w.ctx, w.s.opts.OpTimeout)
			err := conn.Ping(pctx)
			cancel()
			if err != nil {
				return
			}
			continue
		}
		w.s.notifications.Add(1)
		w.recount(n.Payload, false)
	}
}

func (w *watcher) close() {
	w.cancel()
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	for m, b := range w.boxes {
		for sb := range b.subs {
			sb.stop()
			close(sb.ch)
		}
		delete(w.boxes, m)
	}
}
