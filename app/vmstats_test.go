package app_test

import (
	"bytes"
	"sort"
	"strings"
	"testing"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/sidecar-voip/sidecar/app"
	"github.com/sidecar-voip/sidecar/metrics"
)

// vmMetrics scrapes stats as sidecar serve exposes them (metrics.WatchVoicemail with
// VoicemailStats.Snapshot), parses the exposition with the Prometheus text parser and returns
// each voicemail sample as "name{k=v,...}" -> value.
func vmMetrics(t *testing.T, stats *app.VoicemailStats) map[string]float64 {
	t.Helper()
	m := metrics.New(metrics.Options{NoRuntime: true})
	m.WatchVoicemail(stats.Snapshot)
	mfs, err := m.Gatherer().Gather()
	if err != nil {
		t.Fatalf("Gather: %v", err)
	}
	var b bytes.Buffer
	enc := expfmt.NewEncoder(&b, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			t.Fatal(err)
		}
	}
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(&b)
	if err != nil {
		t.Fatalf("parse exposition: %v\n%s", err, b.String())
	}
	out := map[string]float64{}
	for name, mf := range fams {
		if !strings.HasPrefix(name, "sidecar_voicemail_") {
			continue
		}
		for _, s := range mf.GetMetric() {
			var ls []string
			for _, l := range s.GetLabel() {
				ls = append(ls, l.GetName()+"="+l.GetValue())
			}
			sort.Strings(ls)
			out[name+"{"+strings.Join(ls, ",")+"}"] = s.GetCounter().GetValue()
		}
	}
	return out
}

// Every counter of VoicemailStats lands in its own series, with the fixed outcome labels.
func TestVoicemailStatsExposed(t *testing.T) {
	var st app.VoicemailStats
	for i, c := range []interface{ Add(uint64) uint64 }{&st.Deposits, &st.TooShort, &st.MailboxFull, &st.DiskFull,
		&st.Failed, &st.Logins, &st.LoginFailures, &st.LockedRefusals, &st.Lockouts, &st.Unavailable} {
		c.Add(uint64(i + 1))
	}
	want := map[string]float64{
		"sidecar_voicemail_deposits_total{outcome=ok}":           1,
		"sidecar_voicemail_deposits_total{outcome=too_short}":    2,
		"sidecar_voicemail_deposits_total{outcome=mailbox_full}": 3,
		"sidecar_voicemail_deposits_total{outcome=disk_full}":    4,
		"sidecar_voicemail_deposits_total{outcome=failed}":       5,
		"sidecar_voicemail_logins_total{outcome=ok}":             6,
		"sidecar_voicemail_logins_total{outcome=bad_pin}":        7,
		"sidecar_voicemail_logins_total{outcome=locked}":         8,
		"sidecar_voicemail_lockouts_total{}":                     9,
		"sidecar_voicemail_deposits_total{outcome=unavailable}":  10,
	}
	got := vmMetrics(t, &st)
	if len(got) != len(want) {
		t.Errorf("%d series, want %d: %v", len(got), len(want), got)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
}
