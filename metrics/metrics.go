package metrics

import (
	"math"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Result is how a call ended, a fixed set: the label value of sidecar_calls_ended_total.
type Result string

// The results of a call, from its final SIP status (see ResultOf).
const (
	// Answered: the call got 200 OK.
	Answered Result = "answered"
	// Busy: 486 Busy Here or 600 Busy Everywhere.
	Busy Result = "busy"
	// Cancelled: the caller cancelled before the answer (487).
	Cancelled Result = "cancelled"
	// Rejected: any other 3xx, 4xx or 6xx answer (no identifier, no dialplan match, ...).
	Rejected Result = "rejected"
	// Failed: a 5xx answer: the sidecar (templates, dialplan, media) or capacity failed.
	Failed Result = "failed"
)

// Results returns every Result, in documentation order.
func Results() []Result { return []Result{Answered, Busy, Cancelled, Rejected, Failed} }

// ResultOf maps a call's final SIP status to its Result; a status below 200 (none sent)
// counts as Failed.
func ResultOf(status int) Result {
	switch {
	case status >= 200 && status < 300:
		return Answered
	case status == 486 || status == 600:
		return Busy
	case status == 487:
		return Cancelled
	case status >= 500 && status < 600, status < 200:
		return Failed
	default:
		return Rejected
	}
}

// Label values for contexts outside the known set.
const (
	// OtherContext replaces a context name that is not among SetContexts' names.
	OtherContext = "other"
	// NoContext is the label of a call that ended before it had a context.
	NoContext = "none"
)

// Buckets are the upper bounds, in seconds, of the timing histograms: 100us to 10s.
func Buckets() []float64 {
	return []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
		0.1, 0.25, 0.5, 1, 2.5, 5, 10}
}

// jitterBuckets are the upper bounds of the jitter histogram, 0.5ms to 1s.
func jitterBuckets() []float64 {
	return []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 1}
}

// lossBuckets are the upper bounds of the loss-ratio histogram.
func lossBuckets() []float64 {
	return []float64{0, 0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1}
}

// Options configure New.
type Options struct {
	// Contexts are the dialplan's context names, the label values CallEnded may use
	// (SetContexts replaces them, for a reload).
	Contexts []string
	// NoRuntime leaves out the Go runtime and process collectors (for tests that compare
	// whole expositions).
	NoRuntime bool
}

// Metrics holds the collectors and the registry that owns them. Create it with New; every
// method is safe for concurrent use and on a nil *Metrics.
type Metrics struct {
	reg      *prometheus.Registry
	contexts atomic.Pointer[map[string]bool]

	setup      *prometheus.HistogramVec
	build      *prometheus.HistogramVec
	dialplan   prometheus.Histogram
	ended      *prometheus.CounterVec
	jitter     prometheus.Histogram
	loss       prometheus.Histogram
	mediaCalls prometheus.Counter
}

// New creates the collectors and registers them on a new registry of their own.
func New(opts Options) *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		setup: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "sidecar_call_setup_seconds",
			Help:    "Time from a call's INVITE to its final answer, by class of the answer (2xx..6xx).",
			Buckets: Buckets(),
		}, []string{"class"}),
		build: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "sidecar_profile_build_seconds",
			Help:    "Time to build one party's profile from its template, by role (caller, callee).",
			Buckets: Buckets(),
		}, []string{"role"}),
		dialplan: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "sidecar_dialplan_run_seconds",
			Help:    "Time a call spent in the dialplan, from the first step to the last (media apps included).",
			Buckets: Buckets(),
		}),
		ended: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sidecar_calls_ended_total",
			Help: "Calls ended, by dialplan context (\"none\" before routing, \"other\" outside the dialplan) and result.",
		}, []string{"context", "result"}),
		jitter: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "sidecar_media_jitter_seconds",
			Help:    "Interarrival jitter of the peer's RTP (RFC 3550) at the end of each media session.",
			Buckets: jitterBuckets(),
		}),
		loss: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "sidecar_media_loss_ratio",
			Help:    "Fraction of the peer's RTP packets lost (0..1) over each media session that expected any.",
			Buckets: lossBuckets(),
		}),
		mediaCalls: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sidecar_media_sessions_ended_total",
			Help: "Media sessions ended (each observed in the jitter and loss histograms when it received RTP).",
		}),
	}
	m.reg.MustRegister(m.setup, m.build, m.dialplan, m.ended, m.jitter, m.loss, m.mediaCalls)
	if !opts.NoRuntime {
		m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	m.SetContexts(opts.Contexts)
	return m
}

// Gatherer returns the registry, for the admin endpoint's /metrics (nil on a nil Metrics).
func (m *Metrics) Gatherer() prometheus.Gatherer {
	if m == nil {
		return nil
	}
	return m.reg
}

// SetContexts replaces the context names CallEnded accepts as label values.
func (m *Metrics) SetContexts(names []string) {
	if m == nil {
		return
	}
	set := make(map[string]bool, len(names))
	for _, n := range names {
		set[n] = true
	}
	m.contexts.Store(&set)
}

// contextLabel bounds a context name to the known set.
func (m *Metrics) contextLabel(name string) string {
	switch {
	case name == "":
		return NoContext
	case (*m.contexts.Load())[name]:
		return name
	default:
		return OtherContext
	}
}

// ObserveSetup records the time from a call's INVITE to its final answer with status.
func (m *Metrics) ObserveSetup(status int, d time.Duration) {
	if m == nil || status < 100 || status > 699 {
		return
	}
	m.setup.WithLabelValues(strconv.Itoa(status/100) + "xx").Observe(d.Seconds())
}

// ObserveBuild records the time one profile took to build; role is "caller" or "callee"
// (anything else is recorded as "other").
func (m *Metrics) ObserveBuild(role string, d time.Duration) {
	if m == nil {
		return
	}
	if role != "caller" && role != "callee" {
		role = "other"
	}
	m.build.WithLabelValues(role).Observe(d.Seconds())
}

// ObserveDialplan records the time one call's dialplan ran.
func (m *Metrics) ObserveDialplan(d time.Duration) {
	if m == nil {
		return
	}
	m.dialplan.Observe(d.Seconds())
}

// CallEnded counts one finished call in its dialplan context ("" before routing) with its
// result.
func (m *Metrics) CallEnded(context string, r Result) {
	if m == nil {
		return
	}
	m.ended.WithLabelValues(m.contextLabel(context), string(r)).Inc()
}

// Media is what one media session measured, for ObserveMedia.
type Media struct {
	// Received is the number of RTP packets received; Lost the number lost (expected minus
	// received, negative with duplicates).
	Received uint32
	Lost     int64
	// Jitter is the interarrival jitter of the peer's audio.
	Jitter time.Duration
}

// ObserveMedia records one ended media session: its jitter and loss ratio when it received
// any RTP.
func (m *Metrics) ObserveMedia(s Media) {
	if m == nil {
		return
	}
	m.mediaCalls.Inc()
	expected := int64(s.Received) + s.Lost
	if s.Received == 0 || expected <= 0 {
		return
	}
	m.jitter.Observe(s.Jitter.Seconds())
	m.loss.Observe(math.Max(0, float64(s.Lost)/float64(expected)))
}

// WatchCallRecords serves the call-record writer's counters (package cdr) as
// sidecar_cdr_written_total and sidecar_cdr_dropped_total, read at each scrape. Call it once.
func (m *Metrics) WatchCallRecords(stats func() (written, dropped uint64)) {
	if m == nil || stats == nil {
		return
	}
	m.reg.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "sidecar_cdr_written_total",
			Help: "Call records written.",
		}, func() float64 { w, _ := stats(); return float64(w) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "sidecar_cdr_dropped_total",
			Help: "Call records dropped: the writer's queue was full (or the write failed).",
		}, func() float64 { _, d := stats(); return float64(d) }),
	)
}
