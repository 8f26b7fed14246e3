package rtp

import (
	"context"
	"log/slog"
	"sync/atomic"

	"github.com/pion/rtp"

	"github.com/sidecar-voip/sidecar/media"
	"github.com/sidecar-voip/sidecar/rtp/codec"
	"github.com/sidecar-voip/sidecar/rtp/sdp"
)

// Recording limits. Per call, a Record holds at most recordQueue frames of one packet each
// (20 ms of G.722 is 640 bytes: about 32 KB), whatever the sink does.
const (
	// recordQueue bounds the frames waiting for a slow sink: about a second of 20 ms packets.
	// When it is full, frames are dropped and become silence.
	recordQueue = 50
	// maxGapFill bounds, in seconds, the silence a gap in the peer's timestamps becomes; a
	// longer jump (a hold, a new stream) is not filled.
	maxGapFill = 5
	// silenceChunk is the largest silence frame given to a sink, in samples.
	silenceChunk = 1600
)

// recFrame is one packet decoded, queued from the read loop to Record's goroutine.
type recFrame struct {
	codec string
	rate  int
	gap   int // samples of silence before pcm: packets lost, late, or dropped for a full queue
	pcm   []int16
}

// recording is one Record in progress. The read loop fills queue from free; Record's
// goroutine empties queue into the sink and gives the frames back to free. Fields below the
// channels belong to the read loop only.
type recording struct {
	queue, free chan *recFrame
	dropped     atomic.Uint32 // frames dropped for a full queue

	pt          uint8
	name        string
	rate, clock int // sample rate of the decoded audio, RTP clock rate
	dec         codec.Decoder
	started     bool
	ssrc        uint32
	nextTS      uint32 // the timestamp the next packet should carry
	pending     int    // samples of silence owed to the next frame
	scratch     []int16
}

func newRecording() *recording {
	rec := &recording{queue: make(chan *recFrame, recordQueue), free: make(chan *recFrame, recordQueue)}
	for range recordQueue {
		rec.free <- &recFrame{}
	}
	return rec
}

// Record delivers the peer's audio, decoded, to sink until ctx ends (see media.Audio). The
// read loop decodes each packet into a frame of a fixed pool and queues it; this goroutine
// hands the frames to sink. A sink slower than the stream makes the pool run dry: packets are
// then decoded (the G.722 decoder keeps its state) but dropped, and become silence.
func (s *Session) Record(ctx context.Context, sink media.Sink) error {
	r := s.route.Load()
	if r == nil {
		return media.ErrNoEncoder
	}
	if _, _, ok := encodable(r); !ok {
		return media.ErrNoEncoder
	}
	select {
	case <-s.closed:
		return media.ErrClosed
	default:
	}
	rec := newRecording()
	if !s.rec.CompareAndSwap(nil, rec) {
		return media.ErrRecording
	}
	defer func() {
		s.rec.CompareAndSwap(rec, nil)
		if n := rec.dropped.Load(); n > 0 {
			if l := s.logger(slog.LevelWarn); l != nil {
				l.Warn("recording sink too slow: frames replaced by silence", "frames", n)
			}
		}
	}()
	silence := make([]int16, silenceChunk)
	write := func(fr *recFrame) error {
		defer func() { rec.free <- fr }()
		for gap := fr.gap; gap > 0; {
			n := min(gap, len(silence))
			clear(silence[:n]) // a sink may have written into it
			if err := sink.WriteFrame(media.Frame{Codec: fr.codec, SampleRate: fr.rate, Samples: silence[:n]}); err != nil {
				return err
			}
			gap -= n
		}
		if len(fr.pcm) == 0 {
			return nil
		}
		return sink.WriteFrame(media.Frame{Codec: fr.codec, SampleRate: fr.rate, Samples: fr.pcm})
	}
	for {
		select {
		case fr := <-rec.queue:
			if err := write(fr); err != nil {
				return err
			}
		case <-ctx.Done():
			// Deliver what was received before the end: the last frames of a message.
			for {
				select {
				case fr := <-rec.queue:
					if err := write(fr); err != nil {
						return err
					}
				default:
					return ctx.Err()
				}
			}
		case <-s.closed:
			return media.ErrClosed
		}
	}
}

// packet records one audio packet of the peer. Called by the read loop only.
func (rec *recording) packet(pkt *rtp.Packet, r *route) {
	if !rec.started || pkt.PayloadType != rec.pt || rec.dec == nil {
		if !rec.use(pkt.PayloadType, r.formats) {
			return // a passthrough codec: nothing to decode
		}
	}
	if !rec.started || pkt.SSRC != rec.ssrc {
		rec.started, rec.ssrc, rec.nextTS = true, pkt.SSRC, pkt.Timestamp
	}
	switch d := int32(pkt.Timestamp - rec.nextTS); {
	case d < -int32(rec.clock/2):
		// Far behind: the stream restarted its timestamps. Follow it.
	case d < 0:
		return // late: reordered or duplicate, its time has passed
	case d > 0:
		if gap := int64(d) * int64(rec.rate) / int64(rec.clock); gap <= maxGapFill*int64(rec.rate) {
			rec.pending += int(gap) // lost packets (or suppressed silence) become silence
		}
	}
	var fr *recFrame
	select {
	case fr = <-rec.free:
	default:
	}
	if fr == nil {
		// The sink is behind: decode anyway (the decoder's state must follow the stream),
		// and owe the samples as silence.
		rec.scratch = rec.dec.Decode(rec.scratch[:0], pkt.Payload)
		rec.pending += len(rec.scratch)
		rec.advance(pkt.Timestamp, len(rec.scratch))
		rec.dropped.Add(1)
		return
	}
	fr.pcm = rec.dec.Decode(fr.pcm[:0], pkt.Payload)
	fr.codec, fr.rate, fr.gap = rec.name, rec.rate, rec.pending
	rec.pending = 0
	rec.advance(pkt.Timestamp, len(fr.pcm))
	rec.queue <- fr // never blocks: the queue holds every frame of the pool
}

// advance sets the timestamp expected after a packet at ts that decoded to n samples.
func (rec *recording) advance(ts uint32, n int) {
	rec.nextTS = ts + uint32(int64(n)*int64(rec.clock)/int64(rec.rate))
}

// use switches the recording to the negotiated format with payload type pt; it reports
// false when pt is not negotiated or the sidecar cannot decode it.
func (rec *recording) use(pt uint8, formats []sdp.Format) bool {
	for _, f := range formats {
		if f.PT != pt {
			continue
		}
		c, ok := codec.Lookup(f.Name)
		if !ok {
			return false
		}
		rec.pt, rec.name, rec.rate, rec.clock, rec.dec = pt, c.Name, c.SampleRate, f.ClockRate, c.NewDecoder()
		rec.started = false
		return true
	}
	return false
}
