package pgstore

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/sidecar-voip/sidecar/voicemail"
	"github.com/sidecar-voip/sidecar/voicemail/internal/watchhub"
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
	s   *Store
	hub *watchhub.Hub

	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
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
		s.watch = &watcher{s: s, hub: watchhub.New(watchhub.Hooks{Counts: s.Counts}), ctx: wctx, cancel: cancel, done: make(chan struct{})}
		go s.watch.listen()
	}
	w := s.watch
	s.mu.Unlock()
	return w.hub.Subscribe(ctx, mbox)
}

// changed recounts a mailbox this Store changed, if it is watched here.
func (s *Store) changed(mbox string) {
	s.mu.Lock()
	w := s.watch
	s.mu.Unlock()
	if w != nil {
		w.hub.Recount(w.ctx, mbox, false)
	}
}

// resync re-reads every watched mailbox and pushes the counts (a failed read keeps the last
// counts; the resync after the next reconnect corrects them).
func (w *watcher) resync() { w.hub.RecountAll(w.ctx, true) }

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
		w.hub.Recount(w.ctx, n.Payload, false)
	}
}

func (w *watcher) close() {
	w.cancel()
	<-w.done
	w.hub.Close()
}
