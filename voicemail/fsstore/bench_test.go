package fsstore

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/sidecar-voip/sidecar/voicemail"
	"github.com/sidecar-voip/sidecar/voicemail/storetest"
)

// depositFrames records frames of 20 ms (raw G.711 payload, or PCM encoded by the store) and
// commits.
func depositFrames(tb testing.TB, s *Store, codec string, frames int, pcm, del bool) {
	payload := storetest.Tone(160, 3)
	samples := make([]int16, 160)
	for i := range samples {
		samples[i] = int16(i * 97)
	}
	rec, err := s.Deposit(ctx, "1001", voicemail.Envelope{CallerID: "sip:2002@x", Codec: codec}, voicemail.Limits{MaxMessages: 1 << 30})
	if err != nil {
		tb.Fatal(err)
	}
	for range frames {
		if pcm {
			err = rec.WritePCM(samples)
		} else {
			err = rec.WritePayload(payload)
		}
		if err != nil {
			tb.Fatal(err)
		}
	}
	m, err := rec.Commit()
	if err != nil {
		tb.Fatal(err)
	}
	if del {
		if err := s.Delete(ctx, "1001", m.ID); err != nil {
			tb.Fatal(err)
		}
	}
}

// BenchmarkDeposit is one 30 s message per iteration, written in 20 ms frames, committed
// with its fsyncs, then deleted (so the mailbox stays small and every iteration costs the
// same; the delete is in the figure). cpu-ns/audio-s is the CPU time (user+system of the whole process) per
// second of audio recorded; B/op and allocs/op are per message.
func BenchmarkDeposit(b *testing.B) {
	for _, bc := range []struct {
		name  string
		codec string
		pcm   bool
	}{{"pcmu-payload", "pcmu", false}, {"pcmu-from-pcm", "pcmu", true}} {
		b.Run(bc.name, func(b *testing.B) {
			s := open(b, b.TempDir())
			const frames = 30 * 50
			b.ReportAllocs()
			cpu0 := cpuTime()
			for b.Loop() {
				depositFrames(b, s, bc.codec, frames, bc.pcm, true)
			}
			b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N)/30, "cpu-ns/audio-s")
		})
	}
}

// A recording's memory does not grow with its length: a 60 s deposit allocates no more than
// a 1 s one, give or take a few kilobytes (the store streams, it never buffers a message).
func TestDepositMemoryBounded(t *testing.T) {
	s := open(t, t.TempDir())
	depositFrames(t, s, "pcmu", 50, true, false) // warm up
	measure := func(frames int) uint64 {
		var m0, m1 runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&m0)
		depositFrames(t, s, "pcmu", frames, true, false)
		runtime.ReadMemStats(&m1)
		return m1.TotalAlloc - m0.TotalAlloc
	}
	short, long := measure(50), measure(60*50)
	if long > short+16<<10 {
		t.Fatalf("a 60 s deposit allocated %d bytes, a 1 s one %d: memory grows with the recording", long, short)
	}
	t.Logf("1 s: %d bytes, 60 s: %d bytes", short, long)
}

// BenchmarkRawFileReference is the floor a deposit stands on: the same 30 s of G.711 written
// in 20 ms frames through a 4 KiB buffer to a new file, fsynced and renamed, with no WAV
// header, envelope, lock or numbering.
func BenchmarkRawFileReference(b *testing.B) {
	dir := b.TempDir()
	payload := storetest.Tone(160, 3)
	b.ReportAllocs()
	cpu0 := cpuTime()
	i := 0
	for b.Loop() {
		i++
		p := filepath.Join(dir, fmt.Sprintf("t%d", i))
		f, err := os.Create(p)
		if err != nil {
			b.Fatal(err)
		}
		w := bufio.NewWriterSize(f, 4096)
		for range 30 * 50 {
			w.Write(payload)
		}
		if err := w.Flush(); err != nil {
			b.Fatal(err)
		}
		if err := f.Sync(); err != nil {
			b.Fatal(err)
		}
		f.Close()
		if err := os.Rename(p, p+".done"); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N)/30, "cpu-ns/audio-s")
}
