package sipsvc_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/sidecar-voip/sidecar/cdr"
	"github.com/sidecar-voip/sidecar/metrics"
	"github.com/sidecar-voip/sidecar/sipsvc"
)

// scrapeMetrics encodes m as /metrics does and parses it back with the Prometheus parser.
func scrapeMetrics(t *testing.T, m *metrics.Metrics) map[string]*dto.MetricFamily {
	t.Helper()
	mfs, err := m.Gatherer().Gather()
	if err != nil {
		t.Fatal(err)
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
		t.Fatalf("parse: %v\n%s", err, b.String())
	}
	return fams
}

// A burst of real calls (busy, and one answered then hung up by the dialplan) moves the
// metrics and writes one valid JSON record per call, none with the caller's PIN.
func TestCallRecordsAndMetrics(t *testing.T) {
	path := filepath.Join(t.TempDir(), "calls.json")
	records, err := cdr.Open(cdr.Config{Path: path}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer records.Close()
	m := metrics.New(metrics.Options{Contexts: []string{"internal", "public"}, NoRuntime: true})
	e := startEnvOpts(t, nil, func(o *sipsvc.Options) { o.Metrics, o.Records = m, records })
	const pin = "918273"
	const burst = 20
	var wg sync.WaitGroup
	for range burst {
		wg.Add(1)
		go func() {
			defer wg.Done()
			u := newRawUAC(t, "127.0.0.1", e.udp)
			inv := msg{method: "INVITE", ruri: "sip:busy@" + e.udp.String(), toUser: "busy", body: offerSDP,
				headers: []string{"X-Caller-Template: sub", "X-MailBoxPin: " + pin}}
			u.send(u.text(&inv))
			if res := u.final(5 * time.Second); res.StatusCode != 486 {
				t.Errorf("got %d, want 486", res.StatusCode)
			} else {
				u.send(u.ackNon2xx(inv, res))
			}
		}()
	}
	wg.Wait()
	u := newRawUAC(t, "127.0.0.1", e.udp)
	inv := msg{method: "INVITE", ruri: "sip:hangup@" + e.udp.String(), toUser: "hangup", body: offerSDP,
		headers: []string{"X-Caller-Template: sub", "X-MailBoxPin: " + pin}}
	u.send(u.text(&inv))
	ok := u.final(5 * time.Second)
	if ok.StatusCode != 200 {
		t.Fatalf("got %d, want 200", ok.StatusCode)
	}
	u.send(u.ackFor(inv, ok))
	bye := u.request(5 * time.Second)
	u.respond(bye, 200, "OK")
	waitFor(t, 5*time.Second, "calls ended", func() bool { return e.srv.Stats().CallsActive == 0 })
	// CallsActive drops when the handler returns, after the record is queued.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := records.Flush(ctx); err != nil {
		t.Fatal(err)
	}

	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(data, []byte(pin)) {
		t.Errorf("the PIN reached the call records:\n%s", data)
	}
	var recs []cdr.Record
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		var r cdr.Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("not JSON: %v: %s", err, sc.Text())
		}
		recs = append(recs, r)
	}
	if len(recs) != burst+1 {
		t.Fatalf("%d records, want %d:\n%s", len(recs), burst+1, data)
	}
	var answered *cdr.Record
	for i, r := range recs {
		if r.Identifier != "header" || r.CallerTemplate != "sub" || r.Context != "internal" || r.CallID == "" {
			t.Errorf("record %d: %+v", i, r)
		}
		if r.Status == 200 {
			answered = &recs[i]
		} else if r.Status != 486 || r.Exten != "busy" || !r.Answer.IsZero() || len(r.Apps) != 1 || r.Apps[0] != "Busy" {
			t.Errorf("busy record %d: %+v", i, r)
		}
	}
	if answered == nil {
		t.Fatal("no record of the answered call")
	}
	if answered.Answer.IsZero() || answered.Answer.Before(answered.Start) || answered.End.Before(answered.Answer) ||
		answered.EndedBy != "sidecar" || strings.Join(answered.Apps, ",") != "TestAnswer,Hangup" {
		t.Errorf("answered record: %+v", *answered)
	}

	f := scrapeMetrics(t, m)
	ended := map[string]float64{}
	for _, s := range f["sidecar_calls_ended_total"].GetMetric() {
		var k []string
		for _, l := range s.GetLabel() {
			k = append(k, l.GetValue())
		}
		ended[strings.Join(k, "/")] = s.GetCounter().GetValue()
	}
	if ended["internal/busy"] != burst || ended["internal/answered"] != 1 || len(ended) != 2 {
		t.Errorf("sidecar_calls_ended_total: %v", ended)
	}
	count := func(name string) uint64 {
		var n uint64
		for _, s := range f[name].GetMetric() {
			n += s.GetHistogram().GetSampleCount()
		}
		return n
	}
	if n := count("sidecar_call_setup_seconds"); n != burst+1 {
		t.Errorf("setup observations %d, want %d", n, burst+1)
	}
	if n := count("sidecar_profile_build_seconds"); n != burst+1 {
		t.Errorf("profile builds %d, want %d (caller only)", n, burst+1)
	}
	if n := count("sidecar_dialplan_run_seconds"); n != burst+1 {
		t.Errorf("dialplan runs %d, want %d", n, burst+1)
	}
}
