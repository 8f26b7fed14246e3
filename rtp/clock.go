package rtp

import (
	"sync"
	"time"
)

// tickInterval is the shared clock's period: the greatest common divisor of the ptimes sent
// (10, 20, 30, 40 ms...). Sessions send when their own schedule is due, so no skew builds up.
const tickInterval = 10 * time.Millisecond

// ticker is what the shared clock drives.
type ticker interface{ tick(now time.Time) }

// clock is the one goroutine that paces every session's sending and housekeeping.
type clock struct {
	mu   sync.Mutex
	subs map[ticker]struct{}
	list []ticker // reused snapshot, cleared after each tick
	stop chan struct{}
	done chan struct{}
}

func newClock() *clock {
	c := &clock{subs: map[ticker]struct{}{}, stop: make(chan struct{}), done: make(chan struct{})}
	go c.run()
	return c
}

func (c *clock) add(t ticker) {
	c.mu.Lock()
	c.subs[t] = struct{}{}
	c.mu.Unlock()
}

func (c *clock) remove(t ticker) {
	c.mu.Lock()
	delete(c.subs, t)
	c.mu.Unlock()
}

func (c *clock) close() {
	close(c.stop)
	<-c.done
}

func (c *clock) run() {
	defer close(c.done)
	tk := time.NewTicker(tickInterval)
	defer tk.Stop()
	for {
		select {
		case <-c.stop:
			return
		case now := <-tk.C:
			c.mu.Lock()
			c.list = c.list[:0]
			for t := range c.subs {
				c.list = append(c.list, t)
			}
			c.mu.Unlock()
			for _, t := range c.list {
				t.tick(now)
			}
			// The snapshot's array outlives the tick: without clearing it, it kept every
			// session of the busiest moment reachable after its call ended.
			clear(c.list)
		}
	}
}
