package admin_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sidecar-voip/sidecar/admin"
	"github.com/sidecar-voip/sidecar/metrics"
	"github.com/sidecar-voip/sidecar/publish"
	"github.com/sidecar-voip/sidecar/rtp"
	"github.com/sidecar-voip/sidecar/sipsvc"
)

var start = time.Date(2026, 11, 25, 22, 0, 0, 250e6, time.UTC)

func sampleSIP() *fakeSIP {
	return &fakeSIP{stats: sipsvc.Stats{
		Untrusted: 7, Malformed: 3, CallsActive: 2, CallsTotal: 40, Answered: 31, NoACK: 1, Options: 1234,
		Rejected: map[int]uint64{503: 4, 403: 2, 486: 3}, Panics: 5, OverloadInvites: 3, OverloadOptions: 1,
		MWI:        sipsvc.MWIStats{Subscriptions: 8, NotifySent: 20, NotifyFailed: 1, UnsolicitedSent: 3, UnsolicitedFailed: 2},
		PublishMWI: publish.Stats{OK: 5, Recovered412: 1}, PublishBLF: publish.Stats{OK: 60, Recovered412: 2, Failed: 3},
		BLFDropped: 9,
	}}
}

func sampleMedia() *fakeMedia {
	return &fakeMedia{active: 3, totals: rtp.Stats{
		PacketsSent: 5000, OctetsSent: 800000, PacketsReceived: 4990, PacketsLost: -2, Dropped: 6,
	}}
}

const wantMetrics = `# HELP sidecar_blf_dropped_total BLF dialog-state events dropped because the publisher's queue was full.
# TYPE sidecar_blf_dropped_total counter
sidecar_blf_dropped_total 9
# HELP sidecar_build_info Always 1; the version label is the sidecar build.
# TYPE sidecar_build_info gauge
sidecar_build_info{version="1.2.3 \"rc\\1\""} 1
# HELP sidecar_calls_active INVITEs being handled now.
# TYPE sidecar_calls_active gauge
sidecar_calls_active 2
# HELP sidecar_calls_answered_total Calls answered with 200 OK.
# TYPE sidecar_calls_answered_total counter
sidecar_calls_answered_total 31
# HELP sidecar_calls_no_ack_total Answered calls ended because the 200 OK was never acknowledged.
# TYPE sidecar_calls_no_ack_total counter
sidecar_calls_no_ack_total 1
# HELP sidecar_calls_total INVITEs that got a call slot.
# TYPE sidecar_calls_total counter
sidecar_calls_total 40
# HELP sidecar_draining 1 while the SIP service drains (new calls and OPTIONS get 503), else 0.
# TYPE sidecar_draining gauge
sidecar_draining 0
# HELP sidecar_malformed_datagrams_total Datagrams from trusted sources discarded at the socket as not a whole SIP message.
# TYPE sidecar_malformed_datagrams_total counter
sidecar_malformed_datagrams_total 3
# HELP sidecar_media_dropped_total Datagrams discarded by the media plane: malformed or from an unexpected source.
# TYPE sidecar_media_dropped_total counter
sidecar_media_dropped_total 6
# HELP sidecar_media_packets_lost RTP packets lost (expected minus received; duplicates lower it) over every media session.
# TYPE sidecar_media_packets_lost gauge
sidecar_media_packets_lost -2
# HELP sidecar_media_packets_received_total RTP packets received by every media session.
# TYPE sidecar_media_packets_received_total counter
sidecar_media_packets_received_total 4990
# HELP sidecar_media_packets_sent_total RTP packets sent by every media session.
# TYPE sidecar_media_packets_sent_total counter
sidecar_media_packets_sent_total 5000
# HELP sidecar_media_sent_bytes_total RTP payload octets sent by every media session.
# TYPE sidecar_media_sent_bytes_total counter
sidecar_media_sent_bytes_total 800000
# HELP sidecar_media_sessions_active Open media sessions.
# TYPE sidecar_media_sessions_active gauge
sidecar_media_sessions_active 3
# HELP sidecar_mwi_notifies_total MWI NOTIFYs by kind (in_dialog: to a subscription; unsolicited: to a learned location) and result (ok: answered 2xx; failed: unanswered, refused or not sent).
# TYPE sidecar_mwi_notifies_total counter
sidecar_mwi_notifies_total{kind="in_dialog",result="failed"} 1
sidecar_mwi_notifies_total{kind="in_dialog",result="ok"} 20
sidecar_mwi_notifies_total{kind="unsolicited",result="failed"} 2
sidecar_mwi_notifies_total{kind="unsolicited",result="ok"} 3
# HELP sidecar_mwi_subscriptions_active Message-summary (MWI) subscriptions held now.
# TYPE sidecar_mwi_subscriptions_active gauge
sidecar_mwi_subscriptions_active 8
# HELP sidecar_options_total Out-of-dialog OPTIONS answered (200 or 503).
# TYPE sidecar_options_total counter
sidecar_options_total 1234
# HELP sidecar_overload_refused_total Requests answered 503 by overload control ([sip] max-cps, max-calls), by method: new INVITEs refused before any transaction, out-of-dialog OPTIONS while refusing.
# TYPE sidecar_overload_refused_total counter
sidecar_overload_refused_total{method="INVITE"} 3
sidecar_overload_refused_total{method="OPTIONS"} 1
# HELP sidecar_panics_total Handler panics recovered by the SIP service.
# TYPE sidecar_panics_total counter
sidecar_panics_total 5
# HELP sidecar_publish_total PUBLISH operations (initial, modify, refresh, remove) by event (message-summary, dialog) and result (ok, 412_recovered: published afresh after 412, failed).
# TYPE sidecar_publish_total counter
sidecar_publish_total{event="dialog",result="412_recovered"} 2
sidecar_publish_total{event="dialog",result="failed"} 3
sidecar_publish_total{event="dialog",result="ok"} 60
sidecar_publish_total{event="message-summary",result="412_recovered"} 1
sidecar_publish_total{event="message-summary",result="failed"} 0
sidecar_publish_total{event="message-summary",result="ok"} 5
# HELP sidecar_rejected_total Final error answers sent to requests, by SIP status code.
# TYPE sidecar_rejected_total counter
sidecar_rejected_total{code="403"} 2
sidecar_rejected_total{code="486"} 3
sidecar_rejected_total{code="503"} 4
# HELP sidecar_start_time_seconds Start time of the process since the Unix epoch in seconds.
# TYPE sidecar_start_time_seconds gauge
sidecar_start_time_seconds 1.79564400025e+09
# HELP sidecar_untrusted_total Requests refused, datagrams discarded and connections closed because their source is not trusted.
# TYPE sidecar_untrusted_total counter
sidecar_untrusted_total 7
`

// /metrics is the exposition format 0.0.4 with every counter, families sorted by name,
// label values escaped.
func TestMetrics(t *testing.T) {
	base := startServer(t, admin.Options{
		SIP: sampleSIP(), Media: sampleMedia(), Version: `1.2.3 "rc\1"`, Start: start,
	})
	r := do(t, "GET", base+"/metrics")
	if r.code != 200 {
		t.Fatalf("status %d: %s", r.code, r.body)
	}
	if got, want := r.header.Get("Content-Type"), "text/plain; version=0.0.4; charset=utf-8"; got != want {
		t.Errorf("Content-Type %q, want %q", got, want)
	}
	if diff := cmp.Diff(wantMetrics, r.body); diff != "" {
		t.Errorf("/metrics (-want +got):\n%s", diff)
	}
}

// The exposition parses with the Prometheus text parser, every family is a sidecar_ one
// with HELP and TYPE, and the families of Options.Metrics are served next to the snapshot's.
func TestMetricsWellFormed(t *testing.T) {
	m := metrics.New(metrics.Options{Contexts: []string{"default"}})
	m.CallEnded("default", metrics.Answered)
	m.ObserveSetup(200, 2*time.Millisecond)
	m.WatchVoicemail(func() metrics.Voicemail { return metrics.Voicemail{Deposits: 1} })
	for _, tc := range []struct {
		name string
		opts admin.Options
		want int // sidecar_ families
	}{
		{"full", admin.Options{SIP: sampleSIP(), Media: sampleMedia(), Version: "v"}, 23},
		// sidecar_rejected_total has no sample, hence no family, before a first rejection.
		{"nil sources", admin.Options{}, 22},
		// 23, plus sidecar_calls_ended_total, sidecar_call_setup_seconds, the dialplan
		// histogram, the two media histograms and media sessions ended, and the three
		// voicemail families.
		{"with metrics", admin.Options{SIP: sampleSIP(), Media: sampleMedia(), Metrics: m}, 32},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, "GET", startServer(t, tc.opts)+"/metrics")
			fams := parseMetrics(t, r.body)
			n := 0
			for name, mf := range fams {
				if mf.GetHelp() == "" {
					t.Errorf("%s has no HELP", name)
				}
				if strings.HasPrefix(name, "sidecar_") {
					n++
				} else if tc.opts.Metrics == nil {
					t.Errorf("unexpected family %s", name)
				}
			}
			if n != tc.want {
				t.Errorf("%d sidecar_ families, want %d:\n%s", n, tc.want, r.body)
			}
			if tc.opts.Metrics != nil {
				for _, name := range []string{"go_goroutines", "process_start_time_seconds"} {
					if fams[name] == nil {
						t.Errorf("no %s", name)
					}
				}
				got := fams["sidecar_calls_ended_total"].GetMetric()
				if len(got) != 1 || got[0].GetCounter().GetValue() != 1 {
					t.Errorf("sidecar_calls_ended_total: %v", got)
				}
			}
		})
	}
}

// /healthz is 200 "ok", 503 "draining" while the service drains, whatever Kamailio does.
func TestHealthz(t *testing.T) {
	sip := sampleSIP()
	base := startServer(t, admin.Options{SIP: sip})
	if r := do(t, "GET", base+"/healthz"); r.code != 200 || r.body != "ok\n" {
		t.Errorf("serving: %d %q, want 200 \"ok\\n\"", r.code, r.body)
	}
	sip.set(func(f *fakeSIP) { f.draining = true })
	if r := do(t, "GET", base+"/healthz"); r.code != 503 || r.body != "draining\n" {
		t.Errorf("draining: %d %q, want 503 \"draining\\n\"", r.code, r.body)
	}
	if r := do(t, "GET", base+"/metrics"); !strings.Contains(r.body, "\nsidecar_draining 1\n") {
		t.Errorf("/metrics while draining has no sidecar_draining 1:\n%s", r.body)
	}
}

// Unknown paths are 404, other methods 405 with Allow; HEAD works like GET without a body.
func TestRouting(t *testing.T) {
	base := startServer(t, admin.Options{SIP: sampleSIP(), Media: sampleMedia()})
	for _, tc := range []struct {
		method, path string
		code         int
		allow        string
		body         string
	}{
		{"GET", "/index.html", 404, "", "not found\n"},
		{"GET", "/static/", 404, "", "not found\n"},
		{"GET", "/static/nope.css", 404, "", "not found\n"},
		{"GET", "/static/../page.html", 404, "", "not found\n"},
		{"PUT", "/", 405, "GET, HEAD, POST", "method not allowed\n"},
		{"POST", "/static/style.css", 405, "GET, HEAD", "method not allowed\n"},
		{"GET", "/healthz/", 404, "", "not found\n"},
		{"GET", "/metricsx", 404, "", "not found\n"},
		{"GET", "/config", 404, "", "not found\n"},
		{"POST", "/metrics", 405, "GET, HEAD", "method not allowed\n"},
		{"PUT", "/healthz", 405, "GET, HEAD", "method not allowed\n"},
		{"DELETE", "/status", 405, "GET, HEAD", "method not allowed\n"},
		{"HEAD", "/healthz", 200, "", ""},
		{"GET", "/healthz?verbose=1", 200, "", "ok\n"},
	} {
		t.Run(tc.method+tc.path, func(t *testing.T) {
			r := do(t, tc.method, base+tc.path)
			if r.code != tc.code || r.header.Get("Allow") != tc.allow || r.body != tc.body {
				t.Errorf("got %d Allow=%q %q, want %d Allow=%q %q",
					r.code, r.header.Get("Allow"), r.body, tc.code, tc.allow, tc.body)
			}
		})
	}
}

// A panic in a handler is a 500 and the server keeps serving.
func TestPanicRecovered(t *testing.T) {
	sip := sampleSIP()
	sip.set(func(f *fakeSIP) { f.panics = true })
	base := startServer(t, admin.Options{SIP: sip})
	for _, path := range []string{"/metrics", "/status"} {
		if r := do(t, "GET", base+path); r.code != 500 || r.body != "internal error\n" {
			t.Errorf("%s: %d %q, want 500", path, r.code, r.body)
		}
	}
	if r := do(t, "GET", base+"/healthz"); r.code != 200 {
		t.Errorf("/healthz after panics: %d", r.code)
	}
}

// /status has the same figures as JSON, with the uptime from the injected clock.
func TestStatus(t *testing.T) {
	now := start.Add(90*time.Minute + 1500*time.Millisecond)
	sip := sampleSIP()
	sip.set(func(f *fakeSIP) { f.draining = true })
	base := startServer(t, admin.Options{
		SIP: sip, Media: sampleMedia(), Version: "1.2.3", Start: start,
		Now: func() time.Time { return now },
	})
	r := do(t, "GET", base+"/status")
	if r.code != 200 || r.header.Get("Content-Type") != "application/json" {
		t.Fatalf("%d %s: %s", r.code, r.header.Get("Content-Type"), r.body)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(r.body), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"version": "1.2.3", "start_time": "2026-11-25T22:00:00.25Z", "uptime_seconds": 5401.5,
		"draining": true,
		"sip": map[string]any{
			"calls_active": 2.0, "calls_total": 40.0, "calls_answered": 31.0, "calls_no_ack": 1.0,
			"options": 1234.0, "untrusted": 7.0, "panics": 5.0,
			"rejected": map[string]any{"403": 2.0, "486": 3.0, "503": 4.0},
		},
		"media": map[string]any{
			"sessions_active": 3.0, "packets_sent": 5000.0, "sent_bytes": 800000.0,
			"packets_received": 4990.0, "packets_lost": -2.0, "dropped": 6.0,
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("/status (-want +got):\n%s", diff)
	}
}
