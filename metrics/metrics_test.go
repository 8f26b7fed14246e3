package metrics_test

import (
	"bytes"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/sidecar-voip/sidecar/metrics"
)

// scrape gathers m and parses the text exposition back, as Prometheus would.
func scrape(t *testing.T, m *metrics.Metrics) map[string]*dto.MetricFamily {
	t.Helper()
	mfs, err := m.Gatherer().Gather()
	if err != nil {
		t.Fatalf("Gather: %v", err)
	}
	var b bytes.Buffer
	enc := expfmt.NewEncoder(&b, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			t.Fatalf("Encode %s: %v", mf.GetName(), err)
		}
	}
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(&b)
	if err != nil {
		t.Fatalf("parse exposition: %v\n%s", err, b.String())
	}
	return fams
}

// labelsOf renders a sample's labels as "k=v,k=v".
func labelsOf(m *dto.Metric) string {
	var parts []string
	for _, l := range m.GetLabel() {
		parts = append(parts, l.GetName()+"="+l.GetValue())
	}
	return strings.Join(parts, ",")
}

// Every method moves its family, with bounded label values.
func TestObservations(t *testing.T) {
	m := metrics.New(metrics.Options{Contexts: []string{"default", "voicemail"}, NoRuntime: true})
	m.ObserveSetup(200, 3*time.Millisecond)
	m.ObserveSetup(486, 200*time.Microsecond)
	m.ObserveSetup(99, time.Second) // not a final answer: ignored
	m.ObserveBuild("caller", 150*time.Microsecond)
	m.ObserveBuild("callee", 2*time.Millisecond)
	m.ObserveBuild("X-Evil: header", time.Millisecond)
	m.ObserveDialplan(4 * time.Second)
	m.CallEnded("default", metrics.Answered)
	m.CallEnded("default", metrics.Answered)
	m.CallEnded("voicemail", metrics.Busy)
	m.CallEnded("{{ .Header \"X-Ctx\" }}-rendered", metrics.Rejected)
	m.CallEnded("", metrics.ResultOf(403))
	m.ObserveMedia(metrics.Media{Received: 90, Lost: 10, Jitter: 3 * time.Millisecond})
	m.ObserveMedia(metrics.Media{}) // no RTP: counted, not observed
	m.WatchCallRecords(func() (uint64, uint64) { return 12, 3 })

	f := scrape(t, m)
	counts := map[string]map[string]uint64{}
	for name, mf := range f {
		counts[name] = map[string]uint64{}
		for _, s := range mf.GetMetric() {
			switch mf.GetType() {
			case dto.MetricType_HISTOGRAM:
				counts[name][labelsOf(s)] = s.GetHistogram().GetSampleCount()
			case dto.MetricType_COUNTER:
				counts[name][labelsOf(s)] = uint64(s.GetCounter().GetValue())
			}
		}
	}
	want := map[string]map[string]uint64{
		"sidecar_call_setup_seconds":         {"class=2xx": 1, "class=4xx": 1},
		"sidecar_profile_build_seconds":      {"role=caller": 1, "role=callee": 1, "role=other": 1},
		"sidecar_dialplan_run_seconds":       {"": 1},
		"sidecar_media_jitter_seconds":       {"": 1},
		"sidecar_media_loss_ratio":           {"": 1},
		"sidecar_media_sessions_ended_total": {"": 2},
		"sidecar_cdr_written_total":          {"": 12},
		"sidecar_cdr_dropped_total":          {"": 3},
		"sidecar_calls_ended_total": {
			"context=default,result=answered": 2, "context=voicemail,result=busy": 1,
			"context=other,result=rejected": 1, "context=none,result=rejected": 1,
		},
	}
	if d := cmp.Diff(want, counts); d != "" {
		t.Errorf("families (-want +got):\n%s", d)
	}
	loss := f["sidecar_media_loss_ratio"].GetMetric()[0].GetHistogram()
	if got := loss.GetSampleSum(); got != 0.1 {
		t.Errorf("loss ratio sum %v, want 0.1 (10 lost of 100 expected)", got)
	}
}

// The timing histograms have buckets from 100us to 10s, so sub-millisecond profile builds
// and multi-second setups both land in a finite bucket of their own.
func TestBuckets(t *testing.T) {
	b := metrics.Buckets()
	if b[0] != 0.0001 || b[len(b)-1] != 10 {
		t.Errorf("buckets %v, want 100us..10s", b)
	}
	m := metrics.New(metrics.Options{NoRuntime: true})
	m.ObserveBuild("caller", 120*time.Microsecond)
	m.ObserveDialplan(9 * time.Second)
	f := scrape(t, m)
	check := func(name string, le float64) {
		t.Helper()
		h := f[name].GetMetric()[0].GetHistogram()
		var bounds []float64
		for _, bk := range h.GetBucket() {
			if math.IsInf(bk.GetUpperBound(), 1) {
				continue
			}
			bounds = append(bounds, bk.GetUpperBound())
			if bk.GetUpperBound() < le && bk.GetCumulativeCount() != 0 {
				t.Errorf("%s: bucket le=%v counts the observation, want only le>=%v", name, bk.GetUpperBound(), le)
			}
			if bk.GetUpperBound() >= le && bk.GetCumulativeCount() != 1 {
				t.Errorf("%s: bucket le=%v misses the observation", name, bk.GetUpperBound())
			}
		}
		if d := cmp.Diff(metrics.Buckets(), bounds); d != "" {
			t.Errorf("%s buckets (-want +got):\n%s", name, d)
		}
	}
	check("sidecar_profile_build_seconds", 0.00025)
	check("sidecar_dialplan_run_seconds", 10)
}

// A new context set applies to later calls; the runtime collectors are there by default.
func TestContextsAndRuntime(t *testing.T) {
	m := metrics.New(metrics.Options{Contexts: []string{"a"}})
	m.CallEnded("b", metrics.Answered)
	m.SetContexts([]string{"a", "b"})
	m.CallEnded("b", metrics.Answered)
	f := scrape(t, m)
	var got []string
	for _, s := range f["sidecar_calls_ended_total"].GetMetric() {
		got = append(got, labelsOf(s))
	}
	if d := cmp.Diff([]string{"context=b,result=answered", "context=other,result=answered"}, got); d != "" {
		t.Errorf("labels (-want +got):\n%s", d)
	}
	for _, name := range []string{"go_goroutines", "go_memstats_alloc_bytes", "process_start_time_seconds"} {
		if f[name] == nil {
			t.Errorf("no %s: the runtime and process collectors are missing", name)
		}
	}
}

func TestResultOf(t *testing.T) {
	for status, want := range map[int]metrics.Result{
		200: metrics.Answered, 486: metrics.Busy, 600: metrics.Busy, 487: metrics.Cancelled,
		403: metrics.Rejected, 404: metrics.Rejected, 302: metrics.Rejected, 603: metrics.Rejected,
		500: metrics.Failed, 503: metrics.Failed, 0: metrics.Failed,
	} {
		if got := metrics.ResultOf(status); got != want {
			t.Errorf("ResultOf(%d) = %s, want %s", status, got, want)
		}
	}
}

// A nil *Metrics records nothing and does not panic.
func TestNil(t *testing.T) {
	var m *metrics.Metrics
	m.ObserveSetup(200, time.Second)
	m.ObserveBuild("caller", time.Second)
	m.ObserveDialplan(time.Second)
	m.CallEnded("x", metrics.Answered)
	m.ObserveMedia(metrics.Media{Received: 1})
	m.SetContexts(nil)
	m.WatchCallRecords(func() (uint64, uint64) { return 0, 0 })
	if m.Gatherer() != nil {
		t.Error("nil Metrics has a gatherer")
	}
}
