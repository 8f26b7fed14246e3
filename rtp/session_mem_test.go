package rtp_test

import (
	"context"
	"runtime"
	"testing"

	"github.com/sidecar-voip/sidecar/media"
	"github.com/sidecar-voip/sidecar/rtp"
)

// maxSessionHeap bounds the heap an open session holds (its port pair, bound once by the pool
// and kept, not counted): the Session, its negotiated route and local SDP, the digit queue
// until an app or a digit needs it. A session once held 4.5 KB, 1.5 of it a send buffer and 1 KB
// a digit queue no echo call used, then 2.3 KB with a latch candidate table most calls never
// fill; with 32 KB per active call as the target, the media plane's part stays small.
const maxSessionHeap = 2048

// liveHeap is the heap in use after a garbage collection.
func liveHeap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestSessionHeap: the heap held per open session, as an echo call holds it (Echo flushes
// the digits first), stays under maxSessionHeap.
func TestSessionHeap(t *testing.T) {
	const n = 200
	e := newEngine(t, n, nil)
	offer := []byte("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" +
		"m=audio 4000 RTP/AVP 0 8 101\r\na=rtpmap:101 telephone-event/8000\r\na=ptime:20\r\n")
	openAll := func() []media.Session {
		list := make([]media.Session, 0, n)
		for range n {
			s, err := e.Open(context.Background(), media.Params{CallID: "mem-0123456789@127.0.0.1", Offer: offer})
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			s.(*rtp.Session).FlushDigits()
			list = append(list, s)
		}
		return list
	}
	closeAll := func(list []media.Session) {
		for _, s := range list {
			s.Close()
		}
	}
	base := liveHeap()
	closeAll(openAll()) // binds the pool's pairs
	warm := liveHeap()
	list := openAll()
	held := liveHeap()
	per := int64(held-warm) / n
	t.Logf("per session: %d B held, %d B per port pair kept by the pool", per, int64(warm-base)/n)
	if per > maxSessionHeap {
		t.Errorf("an open session holds %d B of heap, want <= %d", per, maxSessionHeap)
	}
	closeAll(list)
	runtime.KeepAlive(list)
}
