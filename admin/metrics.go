package admin

import (
	"bytes"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
	"github.com/sidecar-voip/sidecar/dialoginfo"
	"github.com/sidecar-voip/sidecar/mwi"
	"github.com/sidecar-voip/sidecar/publish"
)

// metricsContentType is the Content-Type of /metrics: the text exposition format 0.0.4.
const metricsContentType = "text/plain; version=0.0.4; charset=utf-8"

// fam describes one family of the snapshot collector.
type fam struct {
	desc  *prometheus.Desc
	typ   prometheus.ValueType
	value func(sn *snapshot) float64
}

// gauge and counter declare a family without labels.
func gauge(name, help string, v func(sn *snapshot) float64) fam {
	return fam{prometheus.NewDesc(name, help, nil, nil), prometheus.GaugeValue, v}
}

func counter(name, help string, v func(sn *snapshot) float64) fam {
	return fam{prometheus.NewDesc(name, help, nil, nil), prometheus.CounterValue, v}
}

// snapshotFamilies are the families read from the SIP service and the media plane at each
// scrape (docs/admin.md lists them with the metrics package's).
func snapshotFamilies() []fam {
	return []fam{
		gauge("sidecar_start_time_seconds", "Start time of the process since the Unix epoch in seconds.",
			func(sn *snapshot) float64 { return float64(sn.start.UnixMilli()) / 1e3 }),
		gauge("sidecar_draining", "1 while the SIP service drains (new calls and OPTIONS get 503), else 0.",
			func(sn *snapshot) float64 { return boolValue(sn.draining) }),
		gauge("sidecar_calls_active", "INVITEs being handled now.",
			func(sn *snapshot) float64 { return float64(sn.sip.CallsActive) }),
		counter("sidecar_calls_total", "INVITEs that got a call slot.",
			func(sn *snapshot) float64 { return float64(sn.sip.CallsTotal) }),
		counter("sidecar_calls_answered_total", "Calls answered with 200 OK.",
			func(sn *snapshot) float64 { return float64(sn.sip.Answered) }),
		counter("sidecar_calls_no_ack_total", "Answered calls ended because the 200 OK was never acknowledged.",
			func(sn *snapshot) float64 { return float64(sn.sip.NoACK) }),
		counter("sidecar_options_total", "Out-of-dialog OPTIONS answered (200 or 503).",
			func(sn *snapshot) float64 { return float64(sn.sip.Options) }),
		counter("sidecar_untrusted_total", "Requests refused, datagrams discarded and connections closed because their source is not trusted.",
			func(sn *snapshot) float64 { return float64(sn.sip.Untrusted) }),
		counter("sidecar_malformed_datagrams_total", "Datagrams from trusted sources discarded at the socket as not a whole SIP message.",
			func(sn *snapshot) float64 { return float64(sn.sip.Malformed) }),
		counter("sidecar_panics_total", "Handler panics recovered by the SIP service.",
			func(sn *snapshot) float64 { return float64(sn.sip.Panics) }),
		gauge("sidecar_media_sessions_active", "Open media sessions.",
			func(sn *snapshot) float64 { return float64(sn.mediaActive) }),
		counter("sidecar_media_packets_sent_total", "RTP packets sent by every media session.",
			func(sn *snapshot) float64 { return float64(sn.media.PacketsSent) }),
		counter("sidecar_media_sent_bytes_total", "RTP payload octets sent by every media session.",
			func(sn *snapshot) float64 { return float64(sn.media.OctetsSent) }),
		counter("sidecar_media_packets_received_total", "RTP packets received by every media session.",
			func(sn *snapshot) float64 { return float64(sn.media.PacketsReceived) }),
		gauge("sidecar_media_packets_lost", "RTP packets lost (expected minus received; duplicates lower it) over every media session.",
			func(sn *snapshot) float64 { return float64(sn.media.PacketsLost) }),
		counter("sidecar_media_dropped_total", "Datagrams discarded by the media plane: malformed or from an unexpected source.",
			func(sn *snapshot) float64 { return float64(sn.media.Dropped) }),
		gauge("sidecar_mwi_subscriptions_active", "Message-summary (MWI) subscriptions held now.",
			func(sn *snapshot) float64 { return float64(sn.sip.MWI.Subscriptions) }),
		counter("sidecar_blf_dropped_total", "BLF dialog-state events dropped because the publisher's queue was full.",
			func(sn *snapshot) float64 { return float64(sn.sip.BLFDropped) }),
	}
}

// sample is one labelled value of a family with labels.
type sample struct {
	value  uint64
	labels []string
}

// labelledFam describes one counter family with labels of the snapshot collector; its label
// values are fixed in code (bounded).
type labelledFam struct {
	desc    *prometheus.Desc
	samples func(sn *snapshot) []sample
}

// labelledFamilies are the snapshot's counter families with labels (sidecar_rejected_total
// aside, whose codes come from a map).
func labelledFamilies() []labelledFam {
	return []labelledFam{
		{prometheus.NewDesc("sidecar_mwi_notifies_total",
			"MWI NOTIFYs by kind (in_dialog: to a subscription; unsolicited: to a learned location) and result (ok: answered 2xx; failed: unanswered, refused or not sent).",
			[]string{"kind", "result"}, nil),
			func(sn *snapshot) []sample {
				m := sn.sip.MWI
				return []sample{
					{m.NotifySent, []string{"in_dialog", "ok"}}, {m.NotifyFailed, []string{"in_dialog", "failed"}},
					{m.UnsolicitedSent, []string{"unsolicited", "ok"}}, {m.UnsolicitedFailed, []string{"unsolicited", "failed"}},
				}
			}},
		{prometheus.NewDesc("sidecar_overload_refused_total",
			"Requests answered 503 by overload control ([sip] max-cps, max-calls), by method: new INVITEs refused before any transaction, out-of-dialog OPTIONS while refusing.",
			[]string{"method"}, nil),
			func(sn *snapshot) []sample {
				return []sample{{sn.sip.OverloadInvites, []string{"INVITE"}}, {sn.sip.OverloadOptions, []string{"OPTIONS"}}}
			}},
		{prometheus.NewDesc("sidecar_publish_total",
			"PUBLISH operations (initial, modify, refresh, remove) by event (message-summary, dialog) and result (ok, 412_recovered: published afresh after 412, failed).",
			[]string{"event", "result"}, nil),
			func(sn *snapshot) []sample {
				var out []sample
				for _, e := range []struct {
					event string
					st    publish.Stats
				}{{mwi.Event, sn.sip.PublishMWI}, {dialoginfo.Event, sn.sip.PublishBLF}} {
					out = append(out, sample{e.st.OK, []string{e.event, "ok"}},
						sample{e.st.Recovered412, []string{e.event, "412_recovered"}},
						sample{e.st.Failed, []string{e.event, "failed"}})
				}
				return out
			}},
	}
}

var (
	buildInfoDesc = prometheus.NewDesc("sidecar_build_info", "Always 1; the version label is the sidecar build.", []string{"version"}, nil)
	rejectedDesc  = prometheus.NewDesc("sidecar_rejected_total", "Final error answers sent to requests, by SIP status code.", []string{"code"}, nil)
)

// snapshotCollector exposes one snapshot, taken before the scrape: the registry collects
// in goroutines of its own, where a panicking source would not be recovered.
type snapshotCollector struct {
	sn       *snapshot
	fams     []fam
	labelled []labelledFam
}

func (c *snapshotCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- buildInfoDesc
	ch <- rejectedDesc
	for _, f := range c.fams {
		ch <- f.desc
	}
	for _, f := range c.labelled {
		ch <- f.desc
	}
}

func (c *snapshotCollector) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(buildInfoDesc, prometheus.GaugeValue, 1, c.sn.version)
	for code, n := range c.sn.sip.Rejected {
		ch <- prometheus.MustNewConstMetric(rejectedDesc, prometheus.CounterValue, float64(n), strconv.Itoa(code))
	}
	for _, f := range c.fams {
		ch <- prometheus.MustNewConstMetric(f.desc, f.typ, f.value(c.sn))
	}
	for _, f := range c.labelled {
		for _, v := range f.samples(c.sn) {
			ch <- prometheus.MustNewConstMetric(f.desc, prometheus.CounterValue, float64(v.value), v.labels...)
		}
	}
}

// writeMetrics writes sn, and the families of Options.Metrics when set, in the text
// exposition format 0.0.4 (families sorted by name, as client_golang gathers them).
func (s *Server) writeMetrics(b *bytes.Buffer, sn *snapshot) error {
	reg := prometheus.NewRegistry()
	if err := reg.Register(&snapshotCollector{sn: sn, fams: s.fams, labelled: s.labelled}); err != nil {
		return err
	}
	g := prometheus.Gatherers{reg}
	if mg := s.opts.Metrics.Gatherer(); mg != nil {
		g = append(g, mg)
	}
	mfs, err := g.Gather()
	if err != nil {
		return err
	}
	enc := expfmt.NewEncoder(b, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			return err
		}
	}
	return nil
}

func boolValue(v bool) float64 {
	if v {
		return 1
	}
	return 0
}
