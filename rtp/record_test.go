package rtp_test

import (
	"context"
	"errors"
	"math"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/sidecar-voip/sidecar/media"
	"github.com/sidecar-voip/sidecar/rtp"
	"github.com/sidecar-voip/sidecar/rtp/codec"
)

// collector is a media.Sink that keeps every sample and signals when it holds want.
type collector struct {
	mu      sync.Mutex
	samples []int16
	frames  []media.Frame // without their samples
	want    int
	full    chan struct{}
	gate    chan struct{} // when not nil, the first WriteFrame waits for it to close
}

func newCollector(want int) *collector {
	return &collector{want: want, full: make(chan struct{})}
}

func (c *collector) WriteFrame(f media.Frame) error {
	c.mu.Lock()
	gate := c.gate
	first := len(c.frames) == 0
	c.mu.Unlock()
	if gate != nil && first {
		<-gate
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	before := len(c.samples)
	c.samples = append(c.samples, f.Samples...)
	c.frames = append(c.frames, media.Frame{Codec: f.Codec, SampleRate: f.SampleRate})
	if before < c.want && len(c.samples) >= c.want {
		close(c.full)
	}
	return nil
}

func (c *collector) got() ([]int16, []media.Frame) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]int16(nil), c.samples...), append([]media.Frame(nil), c.frames...)
}

// startRecord runs Record on s until the returned stop is called, and waits until it listens.
// stop returns Record's error.
func startRecord(t *testing.T, s *rtp.Session, sink media.Sink) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Record(ctx, sink) }()
	deadline := time.Now().Add(5 * time.Second)
	for !rtp.Recording(s) {
		select {
		case err := <-done:
			cancel()
			t.Fatalf("Record returned at once: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("Record did not start in 5 s")
		}
		time.Sleep(time.Millisecond)
	}
	t.Cleanup(cancel)
	return func() error {
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(5 * time.Second):
			t.Fatal("Record did not return after its context ended")
			return nil
		}
	}
}

func waitFull(t *testing.T, c *collector, what string) {
	t.Helper()
	select {
	case <-c.full:
	case <-time.After(10 * time.Second):
		got, _ := c.got()
		t.Fatalf("%s: %d samples recorded, want %d", what, len(got), c.want)
	}
}

// signal is 1 s of a 440 Hz plus 1300 Hz tone at rate.
func signal(rate int) []int16 {
	out := make([]int16, rate)
	for i := range out {
		x := float64(i) / float64(rate)
		out[i] = int16(6000*math.Sin(2*math.Pi*440*x) + 4000*math.Sin(2*math.Pi*1300*x))
	}
	return out
}

// bestCorrelation returns the highest normalised cross-correlation of got against want over
// lags 0-maxLag (G.722's filter bank delays its output), and the SNR in dB at that lag.
func bestCorrelation(want, got []int16, maxLag int) (corr, snr float64) {
	for lag := 0; lag <= maxLag; lag++ {
		n := min(len(want), len(got)-lag)
		var xy, xx, yy, noise float64
		for i := range n {
			x, y := float64(want[i]), float64(got[i+lag])
			xy, xx, yy = xy+x*y, xx+x*x, yy+y*y
			noise += (x - y) * (x - y)
		}
		if c := xy / math.Sqrt(xx*yy); c > corr {
			corr, snr = c, 10*math.Log10(xx/noise)
		}
	}
	return corr, snr
}

// TestRecordDecodesTheCallersAudio: RTP of a known signal sent over a real socket comes out
// of Record as that signal, decoded at the codec's sample rate (8000 for G.711, 16000 for
// G.722 whose RTP clock is 8000), every sample, in order.
func TestRecordDecodesTheCallersAudio(t *testing.T) {
	for _, tc := range []struct {
		codec  string
		pt     uint8
		rate   int
		lag    int
		minSNR float64
	}{
		{"pcmu", 0, 8000, 0, 30},
		{"pcma", 8, 8000, 0, 30},
		{"g722", 9, 16000, 64, 15},
	} {
		t.Run(tc.codec, func(t *testing.T) {
			e := newEngine(t, 1, nil)
			p := newPeer(t)
			s := open(t, e, p.offer(strconv.Itoa(int(tc.pt))), tc.codec)
			in := signal(tc.rate)
			c := newCollector(len(in))
			stop := startRecord(t, s, c)

			cd, _ := codec.Lookup(tc.codec)
			enc := cd.NewEncoder()
			frame := tc.rate / 50 // 20 ms
			for i := 0; i < len(in); i += frame {
				// The RTP clock of all three is 8000 Hz: 160 units per 20 ms.
				p.send(s, tc.pt, i == 0, p.ts+uint32(i/frame*160), enc.Encode(nil, in[i:i+frame]))
			}
			waitFull(t, c, tc.codec)
			if err := stop(); !errors.Is(err, context.Canceled) {
				t.Errorf("Record returned %v, want context.Canceled", err)
			}
			got, frames := c.got()
			if len(got) != len(in) {
				t.Errorf("%d samples recorded, want %d", len(got), len(in))
			}
			for _, f := range frames {
				if f.Codec != tc.codec || f.SampleRate != tc.rate {
					t.Fatalf("frame %s/%d, want %s/%d", f.Codec, f.SampleRate, tc.codec, tc.rate)
				}
			}
			corr, snr := bestCorrelation(in, got, tc.lag)
			if corr < 0.98 || snr < tc.minSNR {
				t.Errorf("recording vs signal: correlation %.3f, SNR %.1f dB; want >= 0.98 and %.0f dB", corr, snr, tc.minSNR)
			}
		})
	}
}

// TestRecordLossAndReorder: a lost packet becomes silence of its length, a late (reordered)
// or duplicate packet is dropped, so the recording keeps the stream's timeline; malformed
// payloads, a passthrough codec and a stream restart do not break it.
func TestRecordLossAndReorder(t *testing.T) {
	e := newEngine(t, 1, nil)
	p := newPeer(t)
	s := open(t, e, p.offer("0 18 101", "a=rtpmap:101 telephone-event/8000"), "pcmu", "g729")
	loud := make([]byte, 160)
	for i := range loud {
		loud[i] = 0x80 // mu-law for +32124
	}
	const n = 160
	c := newCollector(8 * n)
	stop := startRecord(t, s, c)
	base := uint32(90000)
	// Timeline slots 0-7: 2 and 4 never arrive in time (4 arrives after 5), 6 twice.
	for _, slot := range []int{0, 1, 3, 5, 4, 6, 6} {
		p.send(s, 0, slot == 0, base+uint32(slot*n), loud)
	}
	p.send(s, 18, false, base+7*n, []byte{1, 2, 3})  // passthrough g729: not recorded
	p.send(s, 101, false, base+7*n, []byte{1, 0, 0}) // a telephone-event: not audio
	p.send(s, 0, false, base+7*n, loud)              // slot 7 (slot 6 + a g729 packet's gap)
	waitFull(t, c, "loss and reorder")
	got, _ := c.got()
	for i, v := range got[:8*n] {
		slot := i / n
		want := int16(32124)
		if slot == 2 || slot == 4 {
			want = 0
		}
		if v != want {
			t.Fatalf("sample %d (slot %d) = %d, want %d", i, slot, v, want)
		}
	}

	// Garbage and a restart: nothing panics, recording goes on.
	p.send(s, 0, false, base+8*n, nil)
	p.send(s, 0, false, base+8*n, []byte{0x80})
	p.send(s, 0, false, base-1_000_000, loud) // timestamps restarted far back: followed
	p.send(s, 0, false, base-1_000_000+n, loud)
	deadline := time.Now().Add(5 * time.Second)
	for {
		if got, _ := c.got(); len(got) >= 8*n+1+2*n {
			break
		}
		if time.Now().After(deadline) {
			got, _ := c.got()
			t.Fatalf("%d samples after the restart, want %d", len(got), 8*n+1+2*n)
		}
		time.Sleep(time.Millisecond)
	}
	if err := stop(); !errors.Is(err, context.Canceled) {
		t.Errorf("Record returned %v", err)
	}
	if got, _ := c.got(); len(got) != 8*n+1+2*n {
		t.Errorf("%d samples in all, want %d", len(got), 8*n+1+2*n)
	}
}

// TestRecordSlowSinkStaysBounded: a sink that stalls gets at most the session's queue of
// frames; the packets that found it full are replaced by silence, so the timeline is whole
// once the sink resumes and audio flows again.
func TestRecordSlowSinkStaysBounded(t *testing.T) {
	e := newEngine(t, 1, nil)
	p := newPeer(t)
	s := open(t, e, p.offer("0"), "pcmu")
	const n, packets = 160, 200
	loud := make([]byte, n)
	for i := range loud {
		loud[i] = 0x80
	}
	c := newCollector((packets + 1) * n)
	c.gate = make(chan struct{})
	stop := startRecord(t, s, c)
	for i := range packets {
		p.send(s, 0, i == 0, uint32(i*n), loud)
	}
	deadline := time.Now().Add(10 * time.Second)
	for s.Stats().PacketsReceived < packets {
		if time.Now().After(deadline) {
			t.Fatalf("%d packets received, want %d", s.Stats().PacketsReceived, packets)
		}
		time.Sleep(time.Millisecond)
	}
	close(c.gate)
	// The read loop handled every packet before this one: it carries the silence owed.
	for {
		_, frames := c.got()
		if len(frames) >= 50 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d frames after the sink resumed", len(frames))
		}
		time.Sleep(time.Millisecond)
	}
	p.send(s, 0, false, uint32(packets*n), loud)
	waitFull(t, c, "slow sink")
	stop()
	got, _ := c.got()
	if len(got) != (packets+1)*n {
		t.Errorf("%d samples, want %d", len(got), (packets+1)*n)
	}
	loudSamples := 0
	for _, v := range got {
		if v != 0 {
			loudSamples++
		}
	}
	// The frames queued while the sink stalled (at most the queue), plus the last one.
	if loudSamples > 51*n || loudSamples < 2*n {
		t.Errorf("%d loud samples: want the queued frames only (at most %d)", loudSamples, 51*n)
	}
}

// TestRecordErrors: only one Record at a time; a session of passthrough codecs only cannot
// record; a sink's error ends Record with it; Close ends it with ErrClosed.
func TestRecordErrors(t *testing.T) {
	e := newEngine(t, 2, nil)
	p := newPeer(t)
	only := open(t, e, p.offer("18"), "g729")
	if err := only.Record(context.Background(), newCollector(1)); !errors.Is(err, media.ErrNoEncoder) {
		t.Errorf("Record with only G.729: %v, want ErrNoEncoder", err)
	}

	s := open(t, e, p.offer("0"), "pcmu")
	stop := startRecord(t, s, newCollector(1))
	if err := s.Record(context.Background(), newCollector(1)); !errors.Is(err, media.ErrRecording) {
		t.Errorf("second Record: %v, want ErrRecording", err)
	}
	stop()

	boom := errors.New("disk full")
	done := make(chan error, 1)
	go func() {
		done <- s.Record(context.Background(), media.SinkFunc(func(media.Frame) error { return boom }))
	}()
	for !rtp.Recording(s) {
		time.Sleep(time.Millisecond)
	}
	p.send(s, 0, true, 0, make([]byte, 160))
	select {
	case err := <-done:
		if !errors.Is(err, boom) {
			t.Errorf("Record with a failing sink: %v, want its error", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Record did not return the sink's error")
	}

	go func() { done <- s.Record(context.Background(), newCollector(1)) }()
	for !rtp.Recording(s) {
		time.Sleep(time.Millisecond)
	}
	s.Close()
	select {
	case err := <-done:
		if !errors.Is(err, media.ErrClosed) {
			t.Errorf("Record after Close: %v, want ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not end Record")
	}
}
