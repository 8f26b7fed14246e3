package metrics_test

import (
	"testing"

	"github.com/sidecar-voip/sidecar/metrics"
)

func TestWatchVoicemailStore(t *testing.T) {
	m := metrics.New(metrics.Options{})
	st := metrics.VoicemailStore{Down: true, Outages: 2, Unavailable: 7}
	m.WatchVoicemailStore(func() metrics.VoicemailStore { return st })
	value := func(name string) float64 {
		f := scrape(t, m)[name]
		if f == nil || len(f.Metric) != 1 {
			t.Fatalf("%s missing", name)
		}
		if c := f.Metric[0].GetCounter(); c != nil {
			return c.GetValue()
		}
		return f.Metric[0].GetGauge().GetValue()
	}
	if value("sidecar_voicemail_store_up") != 0 || value("sidecar_voicemail_store_outages_total") != 2 || value("sidecar_voicemail_store_unavailable_total") != 7 {
		t.Fatal("values during an outage")
	}
	st.Down = false
	if value("sidecar_voicemail_store_up") != 1 {
		t.Fatal("up after the outage")
	}
	var none *metrics.Metrics
	none.WatchVoicemailStore(func() metrics.VoicemailStore { return st })
}
