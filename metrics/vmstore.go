package metrics

import "github.com/prometheus/client_golang/prometheus"

// VoicemailStore is what the shared mailbox store reports of its health.
type VoicemailStore struct {
	Down                 bool
	Outages, Unavailable uint64
}

// WatchVoicemailStore serves the mailbox store's health, read at each scrape, as
// sidecar_voicemail_store_up (0 during an outage), sidecar_voicemail_store_outages_total and
// sidecar_voicemail_store_unavailable_total (operations failed because the store could not
// be reached). Call it once, for a shared (database) store.
func (m *Metrics) WatchVoicemailStore(stats func() VoicemailStore) {
	if m == nil || stats == nil {
		return
	}
	m.reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "sidecar_voicemail_store_up",
			Help: "1 while the shared mailbox store answers, 0 during an outage.",
		}, func() float64 {
			if stats().Down {
				return 0
			}
			return 1
		}),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "sidecar_voicemail_store_outages_total",
			Help: "Outages of the shared mailbox store (each logged once).",
		}, func() float64 { return float64(stats().Outages) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "sidecar_voicemail_store_unavailable_total",
			Help: "Mailbox store operations that failed because the store could not be reached.",
		}, func() float64 { return float64(stats().Unavailable) }),
	)
}
