package admin_test

import (
	"os"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sidecar-voip/sidecar/admin"
	"github.com/sidecar-voip/sidecar/metrics"
)

// docs/admin.md's metric tables list every sidecar_ family /metrics writes (the snapshot's
// and the metrics package's), in name order.
func TestDocsListEveryMetric(t *testing.T) {
	doc, err := os.ReadFile("../docs/admin.md")
	if err != nil {
		t.Fatal(err)
	}
	var documented []string
	for _, m := range regexp.MustCompile("(?m)^\\| `(sidecar_[a-z_]+)").FindAllStringSubmatch(string(doc), -1) {
		documented = append(documented, m[1])
	}
	m := metrics.New(metrics.Options{NoRuntime: true})
	m.ObserveSetup(200, time.Millisecond)
	m.ObserveBuild("caller", time.Millisecond)
	m.CallEnded("", metrics.Failed)
	m.ObserveDialplan(time.Millisecond)
	m.ObserveMedia(metrics.Media{Received: 10, Jitter: time.Millisecond})
	m.WatchCallRecords(func() (uint64, uint64) { return 1, 0 })
	m.WatchVoicemail(func() metrics.Voicemail { return metrics.Voicemail{} })
	r := do(t, "GET", startServer(t, admin.Options{SIP: sampleSIP(), Media: sampleMedia(), Metrics: m})+"/metrics")
	var served []string
	for _, m := range regexp.MustCompile(`(?m)^# TYPE (\S+)`).FindAllStringSubmatch(r.body, -1) {
		served = append(served, m[1])
	}
	slices.Sort(documented)
	if len(served) == 0 {
		t.Fatalf("no families in /metrics:\n%s", r.body)
	}
	if diff := cmp.Diff(served, documented); diff != "" {
		t.Errorf("docs/admin.md metric table vs /metrics (-served +documented):\n%s", diff)
	}
}
