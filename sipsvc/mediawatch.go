package sipsvc

import (
	"sync"
	"time"
)

// mediaWatchEvery is how often the media watcher looks at the calls' media sessions: the
// delay between a session ending by itself (RTP inactivity, seconds at least) and the call's
// hangup.
const mediaWatchEvery = 100 * time.Millisecond

// mediaWatch ends the calls whose media session ended by itself (media.Session.Done), with
// one goroutine for all of them instead of one per call: while some call has media, it
// looks at every watched session's Done (without blocking) every mediaWatchEvery, and
// cancels the call of one that is closed with ErrMediaEnded. The goroutine starts with the
// first watched call and stops once none is left.
type mediaWatch struct {
	mu      sync.Mutex
	calls   map[*call]<-chan struct{}
	running bool
}

// add watches c's media session, whose Done is done.
func (w *mediaWatch) add(c *call, done <-chan struct{}) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.calls == nil {
		w.calls = make(map[*call]<-chan struct{})
	}
	w.calls[c] = done
	if !w.running {
		w.running = true
		go w.run(c.s)
	}
}

// remove stops watching c (its media is being closed).
func (w *mediaWatch) remove(c *call) {
	w.mu.Lock()
	delete(w.calls, c)
	w.mu.Unlock()
}

// run is the watcher's goroutine: it returns once no call is watched.
func (w *mediaWatch) run(s *Server) {
	defer s.recoverGo("watch media")
	t := time.NewTicker(mediaWatchEvery)
	defer t.Stop()
	var ended []*call
	for range t.C {
		if ended = w.sweep(ended[:0]); ended == nil {
			return
		}
		for i, c := range ended {
			c.logger().Info("media session ended: hanging up")
			c.cancel(ErrMediaEnded)
			ended[i] = nil
		}
	}
}

// sweep forgets the calls whose media ended and appends them to ended. It returns nil, and
// marks the watcher stopped, when no call is left to watch.
func (w *mediaWatch) sweep(ended []*call) []*call {
	w.mu.Lock()
	defer w.mu.Unlock()
	for c, done := range w.calls {
		select {
		case <-done:
			delete(w.calls, c)
			ended = append(ended, c)
		default:
		}
	}
	if len(w.calls) == 0 && len(ended) == 0 {
		w.running = false
		return nil
	}
	if ended == nil {
		ended = make([]*call, 0, 4)
	}
	return ended
}
