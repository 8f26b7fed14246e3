package admin

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Metric types of the exposition format.
const (
	counter = "counter"
	gauge   = "gauge"
)

// writeMetrics writes sn in the Prometheus text exposition format 0.0.4, every family with
// its HELP and TYPE lines, in a fixed order (docs/admin.md lists them in the same order).
func writeMetrics(b *bytes.Buffer, sn *snapshot) {
	family(b, "sidecar_build_info", gauge, "Always 1; the version label is the sidecar build.")
	sample(b, "sidecar_build_info", `version="`+escapeLabel(sn.version)+`"`, "1")
	family(b, "sidecar_start_time_seconds", gauge, "Start time of the process since the Unix epoch in seconds.")
	sample(b, "sidecar_start_time_seconds", "", seconds(sn.start))
	family(b, "sidecar_draining", gauge, "1 while the SIP service drains (new calls and OPTIONS get 503), else 0.")
	sample(b, "sidecar_draining", "", boolValue(sn.draining))

	st := &sn.sip
	one(b, "sidecar_calls_active", gauge, "INVITEs being handled now.", strconv.Itoa(st.CallsActive))
	one(b, "sidecar_calls_total", counter, "INVITEs that got a call slot.", u64(st.CallsTotal))
	one(b, "sidecar_calls_answered_total", counter, "Calls answered with 200 OK.", u64(st.Answered))
	one(b, "sidecar_calls_no_ack_total", counter, "Answered calls ended because the 200 OK was never acknowledged.", u64(st.NoACK))
	one(b, "sidecar_options_total", counter, "Out-of-dialog OPTIONS answered (200 or 503).", u64(st.Options))
	one(b, "sidecar_untrusted_total", counter, "Requests refused, datagrams discarded and connections closed because their source is not trusted.", u64(st.Untrusted))
	family(b, "sidecar_rejected_total", counter, "Final error answers sent to requests, by SIP status code.")
	codes := make([]int, 0, len(st.Rejected))
	for c := range st.Rejected {
		codes = append(codes, c)
	}
	slices.Sort(codes)
	for _, c := range codes {
		sample(b, "sidecar_rejected_total", `code="`+strconv.Itoa(c)+`"`, u64(st.Rejected[c]))
	}
	one(b, "sidecar_panics_total", counter, "Handler panics recovered by the SIP service.", u64(st.Panics))

	m := &sn.media
	one(b, "sidecar_media_sessions_active", gauge, "Open media sessions.", strconv.Itoa(sn.mediaActive))
	one(b, "sidecar_media_packets_sent_total", counter, "RTP packets sent by every media session.", u32(m.PacketsSent))
	one(b, "sidecar_media_sent_bytes_total", counter, "RTP payload octets sent by every media session.", u32(m.OctetsSent))
	one(b, "sidecar_media_packets_received_total", counter, "RTP packets received by every media session.", u32(m.PacketsReceived))
	one(b, "sidecar_media_packets_lost", gauge, "RTP packets lost (expected minus received; duplicates lower it) over every media session.", strconv.FormatInt(m.PacketsLost, 10))
	one(b, "sidecar_media_dropped_total", counter, "Datagrams discarded by the media plane: malformed or from an unexpected source.", u32(m.Dropped))
}

// one writes a family with a single unlabelled sample.
func one(b *bytes.Buffer, name, typ, help, value string) {
	family(b, name, typ, help)
	sample(b, name, "", value)
}

func family(b *bytes.Buffer, name, typ, help string) {
	fmt.Fprintf(b, "# HELP %s %s\n# TYPE %s %s\n", name, escapeHelp(help), name, typ)
}

// sample writes one line; labels is the text between the braces, already escaped.
func sample(b *bytes.Buffer, name, labels, value string) {
	b.WriteString(name)
	if labels != "" {
		b.WriteString("{" + labels + "}")
	}
	b.WriteString(" " + value + "\n")
}

// escapeHelp escapes a HELP text: backslash and line feed.
func escapeHelp(s string) string {
	return strings.NewReplacer(`\`, `\\`, "\n", `\n`).Replace(s)
}

// escapeLabel escapes a label value: backslash, double quote and line feed.
func escapeLabel(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s)
}

func seconds(t time.Time) string {
	return strconv.FormatFloat(float64(t.UnixMilli())/1e3, 'f', 3, 64)
}

func boolValue(v bool) string {
	if v {
		return "1"
	}
	return "0"
}

func u64(v uint64) string { return strconv.FormatUint(v, 10) }
func u32(v uint32) string { return strconv.FormatUint(uint64(v), 10) }
