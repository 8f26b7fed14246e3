package sipsvc

import (
	"runtime/metrics"
	"slices"
	"time"
)

// schedProbe measures how long runnable goroutines wait for a CPU (the Go runtime's
// /sched/latencies:seconds): the queue every piece of the sidecar's work waits in. A call
// waits in it several times between its INVITE and its final answer (the socket reader, the
// transaction goroutine, the handler, the send), so when the process falls behind (more
// work than CPU, its own or the machine's) this wait grows for every call, whatever the
// dialplan does; a dialplan waiting on a timer or a peer is blocked, not runnable, and does
// not count. It is read at most once per schedProbeEvery, by the admission decision.
type schedProbe struct {
	sample []metrics.Sample
	prev   []uint64 // bucket counts at the last read
	at     time.Time
	p90    time.Duration // of the waits between the last two reads
}

// schedProbeEvery is how often the probe reads the runtime's histogram.
const schedProbeEvery = 10 * time.Millisecond

func newSchedProbe() *schedProbe {
	return &schedProbe{sample: []metrics.Sample{{Name: "/sched/latencies:seconds"}}}
}

// wait returns the 90th percentile of the scheduling waits since the read before the last
// one, reading the histogram again when the last read is older than schedProbeEvery.
func (p *schedProbe) wait(now time.Time) time.Duration {
	if now.Sub(p.at) < schedProbeEvery {
		return p.p90
	}
	p.at = now
	metrics.Read(p.sample)
	if p.sample[0].Value.Kind() != metrics.KindFloat64Histogram {
		return 0
	}
	h := p.sample[0].Value.Float64Histogram()
	if len(p.prev) != len(h.Counts) {
		p.prev = slices.Clone(h.Counts)
		return 0
	}
	var n uint64
	for i, c := range h.Counts {
		n += c - p.prev[i]
	}
	p.p90 = 0
	if n > 0 {
		want := (n*9 + 9) / 10
		var seen uint64
		for i, c := range h.Counts {
			seen += c - p.prev[i]
			if seen >= want {
				p.p90 = time.Duration(h.Buckets[i+1] * float64(time.Second)) // the bucket's upper bound
				break
			}
		}
	}
	copy(p.prev, h.Counts)
	return p.p90
}
